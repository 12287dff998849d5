import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// einsum: values against a naive sum over all labels, finite differences (first and second order) through
// many equations, PyTorch on the same inputs, and the traps for malformed equations.

/// `Σ over every label assignment` of the product of the operands: the definition, by brute force.
private func naiveEinsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
    let parsed = EinsumEquation(equation, shapes: operands.map(\.shape))
    let labels = Array(parsed.sizes.keys).sorted()
    let outShape = parsed.output.map { parsed.sizes[$0]! }
    var out = [Double](repeating: 0, count: outShape.reduce(1, *))
    let total = labels.reduce(1) { $0 * parsed.sizes[$1]! }
    for flat in 0..<total {
        let values = unravel(flat, labels.map { parsed.sizes[$0]! })
        let at = Dictionary(uniqueKeysWithValues: zip(labels, values))
        var product = 1.0
        for (op, opLabels) in zip(operands, parsed.operands) {
            // A size-1 dimension broadcasts: index 0 whatever the label's value.
            let index = zip(opLabels, op.shape).map { $1 == 1 ? 0 : at[$0]! }
            product *= op.doubles[ravel(index, op.shape)]
        }
        out[ravel(parsed.output.map { at[$0]! }, outShape)] += product
    }
    return Tensor(shape: outShape, scalars: out)
}

/// Equations and operand shapes covering permutes, reductions, dot/outer/matrix/batched products, three
/// operands, implicit output, ellipsis, broadcasting of size-1 labels and empty dimensions.
private let cases: [(String, [[Int]])] = [
    ("ij->ji", [[2, 3]]), ("ij->", [[2, 3]]), ("ijk->kj", [[2, 3, 4]]), ("ij", [[2, 3]]), ("ba", [[2, 3]]),
    ("i,i->", [[4], [4]]), ("i,j->ij", [[3], [4]]), ("ij,jk->ik", [[2, 3], [3, 4]]), ("ij,jk", [[2, 3], [3, 4]]),
    ("ij,kj->ik", [[2, 3], [4, 3]]), ("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]), ("bij,bjk->b", [[2, 3, 4], [2, 4, 5]]),
    ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]), ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]),
    ("i,ij,j->", [[3], [3, 4], [4]]), ("ij,ij->ij", [[2, 3], [2, 3]]), ("ij,i->j", [[2, 3], [2]]),
    ("...ij,...jk->...ik", [[2, 3, 4], [2, 4, 5]]), ("...ij->...ji", [[2, 2, 3]]), ("...a,b...", [[2, 3], [4, 2]]),
    ("...ij,...jk->ik", [[2, 3, 4], [1, 4, 5]]), ("ij,jk->ik", [[1, 3], [1, 4]]), ("Ab,bA", [[2, 3], [3, 2]]),
    ("ij,jk->ik", [[0, 3], [3, 4]]), ("ij,jk->ik", [[2, 0], [0, 4]]), ("i ,i -> i", [[1], [5]]),
]

@Suite struct EinsumTests {
    @Test func valuesMatchTheDefinition() {
        for (i, (equation, shapes)) in cases.enumerated() {
            let xs = shapes.enumerated().map { sample($0.element, seed: 900 + UInt64(10 * i + $0.offset)) }
            let ours = Tensor.einsum(equation, xs)
            #expect(mismatch(ours, naiveEinsum(equation, xs), atol: 1e-12) == nil, "\(equation) on \(shapes)")
        }
        // float32 operands stay float32.
        let f = Tensor.einsum("ij,jk->ik", Tensor(shape: [1, 2], scalars: [1, 2], dtype: .float32), Tensor(shape: [2, 1], scalars: [3, 4], dtype: .float32))
        #expect(f.dtype == .float32 && f.floats == [11])
    }

    @Test func gradientsMatchFiniteDifferences() {
        for (i, (equation, shapes)) in cases.enumerated() {
            let xs = shapes.enumerated().map { sample($0.element, seed: 950 + UInt64(10 * i + $0.offset)) }
            expectGradients("einsum \"\(equation)\"", xs, secondOrder: true) { Variable.einsum(equation, $0).squared() }
        }
    }

    /// Matrix products lower to one MatMul each, not to a broadcast-and-sum.
    @Test func contractionsBecomeMatrixProducts() {
        let x = [sample([2, 3, 4], seed: 990), sample([2, 4, 5], seed: 991)].map { Variable($0, requiresGrad: true) }
        let ops = OpInventoryTests.recordedOps(Variable.einsum("bij,bjk->bik", x))
        #expect(ops.contains { $0 is MatMul } && !ops.contains { $0 is Multiply })
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let comparisons = cases.enumerated().map { i, c in
            let (equation, shapes) = c
            let xs = shapes.enumerated().map { sample($0.element, seed: 1000 + UInt64(10 * i + $0.offset)) }
            let args = xs.indices.map { "x[\($0)]" }.joined(separator: ", ")
            return TorchComparison("torch.einsum('\(equation)', \(args))", xs, seed: 1100 + UInt64(i)) { Variable.einsum(equation, $0) }
        }
        try compareWithTorch(comparisons)
    }

    @Test func malformedEquationsTrapNamingTheEquationAndShapes() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ij,jk->ik", Variable(Tensor.zeros([2, 3])))
        }, mentions: ["einsum", "\"ij,jk->ik\"", "2 operand subscripts but 1 operands", "[2, 3]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ij,jk->ik", Variable(Tensor.zeros([2, 3])), Variable(Tensor.zeros([4, 5])))
        }, mentions: ["einsum", "subscript 'j' has size 4 in operand 1 but 3", "[2, 3], [4, 5]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ijk->i", Variable(Tensor.zeros([2, 3])))
        }, mentions: ["einsum", "operand 0 has subscripts \"ijk\" for shape [2, 3]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ii->i", Variable(Tensor.zeros([2, 2])))
        }, mentions: ["einsum", "'i' repeats in operand 0", "diagonal"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ij->iz", Variable(Tensor.zeros([2, 2])))
        }, mentions: ["einsum", "output subscript 'z' appears in no operand"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("i1->i", Variable(Tensor.zeros([2, 2])))
        }, mentions: ["einsum", "invalid subscript '1'"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable.einsum("ij->ii", Variable(Tensor.zeros([2, 2])))
        }, mentions: ["einsum", "output subscript 'i' repeats"])
    }
}
