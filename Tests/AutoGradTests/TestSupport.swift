import AutoGradTestSupport
import Foundation
import Testing
@testable import AutoGrad

// Naive index arithmetic for reference implementations, and the tests of the shared op-test helpers of
// AutoGradTestSupport (seeded inputs, mismatch, expectGradients), which show that they reject wrong input.

// MARK: Naive index arithmetic (for reference implementations)

/// The multi-index of row-major flat index `flat` in `shape`.
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// The row-major flat index of `index` in `shape`.
func ravel(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

@Suite struct TestSupportTests {
    @Test func mismatchRejectsWrongValuesShapesAndNaN() {
        let t = Tensor(shape: [2], scalars: [1.0, 2.0])
        #expect(mismatch(t, shape: [2], [1, 2]) == nil)
        #expect(mismatch(t, shape: [2], [1, 2 + 1e-9], atol: 1e-6) == nil)
        #expect(mismatch(t, shape: [2], [1, 2.001]) != nil)
        #expect(mismatch(t, shape: [1, 2], [1, 2]) != nil)
        #expect(mismatch(t, shape: [2], [1]) != nil)
        #expect(mismatch(Tensor([Double.nan, 1]), shape: [2], [0, 1]) != nil)
        #expect(mismatch(Tensor([0.0, 1]), shape: [2], [.nan, 1]) != nil)
        #expect(mismatch(Tensor([Double.nan, 1]), shape: [2], [.nan, 1]) == nil)
        #expect(mismatch(Tensor([Double.infinity]), shape: [1], [-.infinity]) != nil)
        #expect(mismatch(Tensor([Double.infinity]), shape: [1], [1e300]) != nil)
        #expect(mismatch(t, Tensor([1.0, 3.0])) != nil)
    }

    @Test func expectGradientsReportsWrongFirstAndSecondOrders() {
        let x = [sample([2, 3], .positive, seed: 1)]
        withKnownIssue("a wrong first derivative must be reported") {
            expectGradients("half-gradient square", x) { HalfGradientSquare()($0[0]) }
        }
        withKnownIssue("a wrong second derivative must be reported") {
            expectGradients("frozen-backward cube", x, secondOrder: true) { FrozenBackwardCube()($0[0]) }
        }
        // The first order of the frozen cube is right: only the second-order check may complain.
        expectGradients("frozen-backward cube, first order", x) { FrozenBackwardCube()($0[0]) }
        expectGradients("cube", x, secondOrder: true) { $0[0].pow(3) }
    }

    @Test func samplesRespectTheirDomains() {
        let p = sample([50], .positive, seed: 1).doubles
        #expect(p.allSatisfy { $0 >= 0.5 && $0 < 2 })
        let z = sample([50], .nonzero, seed: 1).doubles
        #expect(z.allSatisfy { Swift.abs($0) >= 0.3 } && z.contains { $0 < 0 } && z.contains { $0 > 0 })
        let d = sample([30], .distinct, seed: 1).doubles
        #expect(Set(d).count == 30)
        let (a, b) = distinctPair([3], [4], seed: 2)
        #expect(Set(a.doubles + b.doubles).count == 7)
        #expect(sample([3, 4], seed: 5) == sample([3, 4], seed: 5))
        #expect(sample([3, 4], seed: 5) != sample([3, 4], seed: 6))
    }

    @Test func ravelAndUnravelAreInverse() {
        let shape = [2, 3, 4]
        #expect(unravel(23, shape) == [1, 2, 3])
        #expect(unravel(5, shape) == [0, 1, 1])
        for i in 0..<24 { #expect(ravel(unravel(i, shape), shape) == i) }
        #expect(unravel(0, []) == [] && ravel([], []) == 0)
    }
}

/// Forward `x²`, backward `x` instead of `2x`.
private struct HalfGradientSquare: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g * inputs[0]] }
}

/// Forward `x³` with a right first derivative held as a constant, so its second derivative is lost.
private struct FrozenBackwardCube: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[0] * x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * Variable(inputs[0].value * inputs[0].value * 3)]
    }
}

@Suite struct OpInventoryCheckTests {
    /// An op declared but not named by the inventory is reported; naming it (or a refining protocol's
    /// conformer) counts.
    @Test func anOpWithNoCaseIsFound() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("inventory-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Sources/Ops"), withIntermediateDirectories: true)
        try """
            protocol FusedOp: Op {}
            struct Softsign: Op {
            }
            final class Fused<T>: FusedOp {
            }
            struct NotAnOp: Equatable {
            }
            """.write(to: root.appendingPathComponent("Sources/Ops/Ops.swift"), atomically: true, encoding: .utf8)
        try "expectRecords(Fused<Double>.self) // no Softsign".write(to: root.appendingPathComponent("Inventory.swift"),
                                                                   atomically: true, encoding: .utf8)
        #expect(try OpInventory.declaredOps(in: root.appendingPathComponent("Sources/Ops")) == ["Softsign", "Fused"])
        #expect(try OpInventory.coveredOps(in: root.appendingPathComponent("Inventory.swift")).contains("Fused") == false)
        try "expectRecords(Fused.self); _ = x is Softsign".write(to: root.appendingPathComponent("Inventory.swift"),
                                                             atomically: true, encoding: .utf8)
        #expect(try OpInventory.coveredOps(in: root.appendingPathComponent("Inventory.swift")).isSuperset(of: ["Fused", "Softsign"]))
    }
}
