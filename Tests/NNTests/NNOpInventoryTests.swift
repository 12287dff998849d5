import AutoGradTestSupport
import Testing
@testable import AutoGrad
@testable import NN

/// NN's own `Op` primitives, reached through the functions that record them, and gradchecked there.
@Suite struct NNOpInventoryTests {
    private func recordedOps(_ v: Variable) -> [String] {
        var names: [String] = []
        var stack = [v]
        while let next = stack.popLast() {
            guard let record = next.record else { continue }
            names.append(record.op.name)
            stack.append(contentsOf: record.inputs)
        }
        return names
    }

    private func expectRecords<O: Op>(_ op: O, _ input: Tensor, sourceLocation: SourceLocation = #_sourceLocation,
                                      _ function: @escaping (Variable) -> Variable) {
        let y = function(Variable(input, requiresGrad: true))
        #expect(recordedOps(y).contains(op.name), "no \(O.self) recorded", sourceLocation: sourceLocation)
        do { try gradcheck({ function($0[0]) }, inputs: [input]) } catch {
            Issue.record("\(O.self): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Fails for a type conforming to `Op` (or `FusedBackwardOp`) in Sources/NN that this file does not name.
    @Test func everyOpHasACase() throws {
        try OpInventory.expectCoverage(sources: "Sources/NN", inventory: "Tests/NNTests/NNOpInventoryTests.swift",
                                       root: OpInventory.packageRoot(of: #filePath))
    }

    @Test func primitives() {
        let x = Tensor.uniform([3, 4], low: -2, high: 2, dtype: .float64, generator: RandomGenerator(seed: 5))
        let p = Tensor.uniform([3, 4], low: 0.1, high: 0.9, dtype: .float64, generator: RandomGenerator(seed: 6))
        expectRecords(Erf(), x) { erf($0) }
        expectRecords(BatchNormTraining(eps: 1e-5), x) { BatchNorm1d(4, affine: false, trackRunningStats: false, dtype: .float64)($0) }
        expectRecords(SoftplusOp(), x) { softplus($0) }
        expectRecords(GELUOp(approximate: .none), x) { gelu($0) }
        expectRecords(GELUOp(approximate: .tanh), x) { gelu($0, approximate: .tanh) }
        expectRecords(ClampedLog(), p) { binaryCrossEntropy($0, Variable(Tensor.full([3, 4], 0.3, dtype: .float64))) }
        let rowNorm = { (centered: Bool) in RowNormalization(normalizedRank: 1, eps: 1e-5, centered: centered, hasWeight: false, hasBias: false) }
        expectRecords(rowNorm(true), x) { layerNorm($0, normalizedShape: [4]) }
        expectRecords(rowNorm(false), x) { rmsNorm($0, normalizedShape: [4]) }
        expectRecords(GroupNormalization(groups: 2, eps: 1e-5, hasWeight: false, hasBias: false), x) { groupNorm($0, numGroups: 2) }
        expectRecords(EmbeddingLookup(indices: TensorIndices([0]), paddingIndex: nil), x) {
            embedding(TensorIndices(shape: [2, 2], values: [2, 0, 2, 1]), $0).squared()
        }
        let c = Variable(Tensor.uniform([3, 1], low: -1, high: 1, dtype: .float64, generator: RandomGenerator(seed: 7)))
        expectRecords(LSTMCellOp(), x) { lstmCell(gates: $0, cell: c).h }
        expectRecords(GRUCellOp(), x.sliced(axis: 1, start: 0, end: 3)) { gruCell(inputGates: $0, hiddenGates: $0 * 0.5, hidden: c) }
        let w = Variable(Tensor.uniform([4, 1], low: -1, high: 1, dtype: .float64, generator: RandomGenerator(seed: 8)))
        expectRecords(RecurrenceOp(kind: .lstm, reverse: false), x) {
            recurrence(.lstm, projected: $0.reshaped([3, 1, 4]), weightHH: w, biasHH: nil, h0: c.sliced(axis: 0, start: 0, end: 1),
                       c0: c.sliced(axis: 0, start: 1, end: 2), reverse: false).output
        }
    }
}
