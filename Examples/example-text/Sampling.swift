import Data
import Foundation

/// Draws a token from next-token logits: divided by `temperature`, cut to the `topK` largest (when given),
/// softmax, then one draw from `generator`.
func sampleToken(logits: [Double], temperature: Double, topK: Int?, generator: RandomGenerator) -> Int {
    var scaled = logits.map { $0 / temperature }
    if let topK, topK < scaled.count {
        let threshold = scaled.sorted(by: >)[topK - 1]
        scaled = scaled.map { $0 >= threshold ? $0 : -.infinity }
    }
    let top = scaled.max()!
    let weights = scaled.map { Foundation.exp($0 - top) }
    var u = generator.nextUniform() * weights.reduce(0, +)
    for (i, w) in weights.enumerated() where w > 0 {
        u -= w
        if u < 0 { return i }
    }
    return weights.lastIndex { $0 > 0 }!
}
