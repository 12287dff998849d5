import Testing
@testable import NN

@Suite struct StructuredPruningTests {
    @Test func strongestRowsFollowTheNorm() {
        let w = Tensor(shape: [4, 2], scalars: [3, 0, 2, 2, -1, -1.5, 0.1, 0] as [Double])
        #expect(StructuredPruning.strongestRows(w, keep: 2, norm: .l1) == [1, 0].sorted())   // L1: 3, 4, 2.5, 0.1
        #expect(StructuredPruning.strongestRows(w, keep: 1, norm: .l2) == [0])                // L2²: 9, 8, 3.25, 0.01
        #expect(StructuredPruning.strongestRows(w, keep: 3, norm: .l1) == [0, 1, 2])
    }

    /// The smaller dense model computes what the original computes with the dropped units' outputs forced to 0.
    @Test func smallerModelMatchesTheMaskedOriginal() {
        let g = RandomGenerator(seed: 4)
        let model = Sequential(Linear(6, 5, dtype: .float64, generator: g), ReLU(), Linear(5, 3, dtype: .float64, generator: g))
        let small = StructuredPruning.removeUnits(of: model, at: 0, keep: 3, norm: .l2)
        #expect((small[0] as! Linear).outFeatures == 3 && (small[2] as! Linear).inFeatures == 3)
        #expect(small.parameterCount == 6 * 3 + 3 + 3 * 3 + 3)
        let kept = StructuredPruning.strongestRows((model[0] as! Linear).weight.value, keep: 3, norm: .l2)
        let mask = Tensor(shape: [5], scalars: (0..<5).map { kept.contains($0) ? 1.0 : 0.0 })
        let x = Variable(Tensor.randn([4, 6], dtype: .float64, generator: g))
        let masked = (model[2] as! Linear)(relu((model[0] as! Linear)(x)) * Variable(mask))
        #expect(isClose(small(x).value, masked.value, tolerance: 1e-12))
    }

    @Test func nonElementwiseLayersBetweenTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = StructuredPruning.removeUnits(of: Sequential(Linear(4, 4), LayerNorm(normalizedShape: [4]), Linear(4, 2)), at: 0, keep: 2)
        }
    }
}
