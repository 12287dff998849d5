import Testing
@testable import AutoGrad

/// A deliberately wrong op: forward `x²`, backward claims `x` instead of `2x`.
private struct WrongSquare: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g * inputs[0]] }
}

/// Right first derivative, wrong second: backward of `x³` uses a constant copy of `x²`.
private struct CubeWithConstantBackward: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[0] * x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * Variable(inputs[0].value * inputs[0].value * 3)]
    }
}

@Suite struct GradcheckTests {
    @Test func catchesAWrongBackwardAndNamesTheElement() throws {
        let x = Tensor(shape: [2, 3], scalars: [0.5, -1.0, 2.0, 1.5, -0.3, 0.7])
        let error = try #require(throws: GradcheckError.self) {
            try gradcheck({ WrongSquare()($0[0]) }, inputs: [x])
        }
        #expect(error.kind == .mismatch)
        #expect(error.name == "WrongSquare")
        #expect(error.inputIndex == 0)
        // The worst element is the largest |x|: 2.0 at flat index 2 (analytic 2, numeric 4).
        #expect(error.elementIndex == 2)
        #expect(Swift.abs(error.analytic - 2) < 1e-9)
        #expect(Swift.abs(error.numeric - 4) < 1e-6)
        #expect(error.description.contains("WrongSquare"))
    }

    @Test func passesTheCorrectOp() throws {
        let x = Tensor(shape: [2, 3], scalars: [0.5, -1.0, 2.0, 1.5, -0.3, 0.7])
        let difference = try gradcheck({ $0[0] * $0[0] }, inputs: [x])
        #expect(difference < 1e-6)
    }

    @Test func gradgradcheckCatchesANonDifferentiableBackward() throws {
        let x = Tensor(shape: [3], scalars: [0.5, -1.0, 2.0])
        // First order is right...
        try gradcheck({ CubeWithConstantBackward()($0[0]) }, inputs: [x])
        // ...but the second order is not: the backward hides its dependence on x.
        #expect(throws: GradcheckError.self) {
            try gradgradcheck({ CubeWithConstantBackward()($0[0]) }, inputs: [x])
        }
        try gradgradcheck({ $0[0].pow(3) }, inputs: [x])
    }

    @Test func rejectsFloatOutputs() throws {
        let error = try #require(throws: GradcheckError.self) {
            try gradcheck({ [Variable($0[0].value.to(.float32))] }, inputs: [Tensor([1.0, 2.0])])
        }
        #expect(error.kind == .notDouble)
    }
}
