import Foundation
import Testing
@testable import NN

@Suite("TokenSampler")
struct TokenSamplerTests {
    private func softmax(_ z: [Double]) -> [Double] {
        let top = z.max()!
        let e = z.map { Foundation.exp($0 - top) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    private func expectClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= tolerance, "\(a) vs \(b)", sourceLocation: sourceLocation) }
    }

    @Test func temperatureDividesTheLogits() {
        let z = [1.0, -0.5, 2.0, 0.25]
        expectClose(TokenSampler(temperature: 0.5).probabilities(logits: z), softmax(z.map { $0 / 0.5 }))
        expectClose(TokenSampler().probabilities(logits: z), softmax(z))
    }

    @Test func topKKeepsTheLikeliestAndTiesAtTheThreshold() {
        let z = [1.0, 3.0, 2.0, 0.0]
        let p = TokenSampler(topK: 2).probabilities(logits: z)
        let kept = softmax([3.0, 2.0])
        expectClose(p, [0, kept[0], kept[1], 0])
        let tied = TokenSampler(topK: 1).probabilities(logits: [1.0, 2.0, 2.0, 0.0])
        expectClose(tied, [0, 0.5, 0.5, 0])
        expectClose(TokenSampler(topK: 10).probabilities(logits: z), softmax(z))
    }

    @Test func topPKeepsTheSmallestNucleus() {
        let z = [0.5, 0.3, 0.15, 0.05].map { Foundation.log($0) }
        expectClose(TokenSampler(topP: 0.7).probabilities(logits: z), [0.625, 0.375, 0, 0], tolerance: 1e-12)
        expectClose(TokenSampler(topP: 0.81).probabilities(logits: z), [0.5, 0.3, 0.15, 0].map { $0 / 0.95 }, tolerance: 1e-12)
        expectClose(TokenSampler(topP: 1e-9).probabilities(logits: z), [1, 0, 0, 0])
        expectClose(TokenSampler(topP: 1).probabilities(logits: z), [0.5, 0.3, 0.15, 0.05], tolerance: 1e-12)
    }

    @Test func topKThenTopPCombine() {
        let z = [0.4, 0.3, 0.2, 0.1].map { Foundation.log($0) }
        // top-k 3 renormalises to 4/9, 3/9, 2/9; the nucleus of 0.7 then needs the first two (7/9).
        expectClose(TokenSampler(topK: 3, topP: 0.7).probabilities(logits: z), [4.0 / 7, 3.0 / 7, 0, 0], tolerance: 1e-12)
    }

    @Test func drawsFollowTheProbabilities() {
        let z = [0.2, 1.4, -0.3, 0.9, -2.0]
        let sampler = TokenSampler(temperature: 0.9, topK: 4)
        let p = sampler.probabilities(logits: z)
        let generator = RandomGenerator(seed: 11)
        var counts = [Int](repeating: 0, count: z.count)
        let draws = 40_000
        for _ in 0..<draws { counts[sampler.sample(logits: z, generator: generator)] += 1 }
        #expect(counts[4] == 0, "a token outside the top k was drawn")
        for i in z.indices {
            let frequency = Double(counts[i]) / Double(draws)
            // Five standard deviations of a binomial proportion.
            let sd = (p[i] * (1 - p[i]) / Double(draws)).squareRoot()
            #expect(abs(frequency - p[i]) <= 5 * sd + 1e-12, "token \(i): frequency \(frequency), probability \(p[i])")
        }
    }

    @Test func sameSeedSameTokens() {
        let z = (0..<50).map { Double($0 % 7) * 0.3 }
        let sampler = TokenSampler(temperature: 1.3, topP: 0.9)
        let a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        #expect((0..<100).map { _ in sampler.sample(logits: z, generator: a) } == (0..<100).map { _ in sampler.sample(logits: z, generator: b) })
    }

    @Test func greedyTakesTheFirstLargest() {
        #expect(TokenSampler.greedy(logits: [0.1, 2.5, -1, 2.5]) == 1)
        #expect(TokenSampler.greedy(logits: [-.infinity, -3]) == 1)
        #expect(TokenSampler(temperature: 1e-3).sample(logits: [0.1, 2.5, -1, 2.4], generator: RandomGenerator(seed: 1)) == 1)
    }
}
