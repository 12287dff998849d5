import Testing
@testable import Data

@Suite struct TransformTests {
    @Test func scaleMapsRangeToUnitInterval() {
        let x = Tensor(shape: [3], scalars: [Float(0), 51, 255])
        let s = Transform.scale()(x)
        #expect(s.dtype == .float32 && zip(s.floats, [Float(0), 0.2, 1]).allSatisfy { abs($0 - $1) < 1e-6 })
        let y = Tensor(shape: [2], scalars: [-1.0, 1.0])
        let scaled = Transform.scale(from: -1...1)(y)
        #expect(scaled.doubles == [0, 1] && scaled.dtype == .float64)
    }

    @Test func normalizePerChannelAndGlobal() {
        let x = Tensor(shape: [2, 1, 2], scalars: [1.0, 3, 10, 20])
        let n = Transform.normalize(mean: [2, 10], std: [1, 5])(x)
        #expect(n.shape == [2, 1, 2] && n.doubles == [-1, 1, 0, 2])
        let g = Transform.normalize(mean: [0.5], std: [0.5])(Tensor(shape: [2, 2], scalars: [0.0, 0.5, 1, 0.25]))
        #expect(g.doubles == [-1, 0, 1, -0.5])
    }

    @Test func composeAndThenApplyInOrder() {
        let x = Tensor(shape: [2], scalars: [0.0, 255])
        let chained = Transform.scale().then(.normalize(mean: [0.5], std: [0.5]))
        let composed = Transform(composing: [.scale(), .normalize(mean: [0.5], std: [0.5])])
        #expect(chained(x).doubles == [-1, 1])
        #expect(composed(x).doubles == [-1, 1])
        // Order matters: normalising first gives something else.
        #expect(Transform(composing: [.normalize(mean: [0.5], std: [0.5]), .scale()])(x).doubles != [-1, 1])
        #expect(Transform<Tensor, Tensor>(composing: [])(x) == x)
        let toLabel = Transform<Int, Int> { $0 * 2 }.then(Transform<Int, String> { "class \($0)" })
        #expect(toLabel(3) == "class 6")
    }

    @Test func oneHot() {
        #expect(Transform.oneHot(classCount: 4)(2).floats == [0, 0, 1, 0])
        let batch = Data.oneHot([1, 0, 2], classCount: 3, dtype: .float64)
        #expect(batch.shape == [3, 3] && batch.doubles == [0, 1, 0, 1, 0, 0, 0, 0, 1])
    }

    @Test func transformingInputsKeepsLabels() {
        let ds = ArrayDataset([(Tensor(shape: [1], scalars: [Float(255)]), 7)])
        let t = ds.transformingInputs(Transform.scale())
        #expect(t[0].0.floats == [1] && t[0].1 == 7 && t.count == 1)
        #expect(ds.transformed(Transform { $0.1 + 1 })[0] == 8)
    }

    @Test func randomSplitIsSeededDisjointAndComplete() {
        let ds = ArrayDataset(Array(0..<100))
        let parts = randomSplit(ds, [70, 20, 10], seed: 5)
        #expect(parts.map(\.count) == [70, 20, 10])
        let all = parts.flatMap { p in (0..<p.count).map { p[$0] } }
        #expect(all.sorted() == Array(0..<100))
        #expect(parts[0].indices != Array(0..<70), "the split should be shuffled")
        #expect(randomSplit(ds, [70, 20, 10], seed: 5).map(\.indices) == parts.map(\.indices))
        #expect(randomSplit(ds, [70, 20, 10], seed: 6).map(\.indices) != parts.map(\.indices))
        let byFraction = randomSplit(ArrayDataset(Array(0..<11)), fractions: [0.5, 0.5], seed: 1)
        #expect(byFraction.map(\.count) == [6, 5])
    }
}
