import Foundation
import Testing
@testable import NN

/// Points away from every kink, with a broadcast-free shape, for gradient checks.
private let points = doubles([2, 3], [-2.1, -0.7, -0.2, 0.3, 0.9, 2.4])

@Suite struct ActivationTests {
    @Test func forwardValuesMatchTheFormulas() {
        let x = doubles([5], [-2, -0.5, 0, 0.5, 3])
        let v = Variable(x)
        #expect(leakyReLU(v, negativeSlope: 0.1).value == doubles([5], [-0.2, -0.05, 0, 0.5, 3]))
        #expect(isClose(elu(v, alpha: 2).value, doubles([5], x.doubles.map { $0 > 0 ? $0 : 2 * (exp($0) - 1) })))
        #expect(isClose(gelu(v).value, doubles([5], x.doubles.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) })))
        #expect(isClose(gelu(v, approximate: .tanh).value,
                        doubles([5], x.doubles.map { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) })))
        #expect(isClose(silu(v).value, doubles([5], x.doubles.map { $0 / (1 + exp(-$0)) })))
        #expect(isClose(softplus(v).value, doubles([5], x.doubles.map { log(1 + exp($0)) })))
        #expect(isClose(softplus(v, beta: 2).value, doubles([5], x.doubles.map { log(1 + exp(2 * $0)) / 2 })))
        // GELU at known points: Φ(1) = 0.841344746…
        #expect(Swift.abs(gelu(Variable(Tensor(1.0))).value.item - 0.8413447460685429) < 1e-12)
        // Softplus is stable and switches to the identity above the threshold.
        #expect(softplus(Variable(Tensor(800.0))).value.item == 800)
        #expect(softplus(Variable(Tensor(-800.0))).value.item == 0)
        #expect(elu(Variable(Tensor(Float(100)))).value.item == 100)
    }

    @Test func modulesCallTheirFunctions() {
        let x = Variable(points)
        let pairs: [(Module, Variable)] = [
            (ReLU(), relu(x)), (LeakyReLU(negativeSlope: 0.2), leakyReLU(x, negativeSlope: 0.2)), (ELU(alpha: 0.5), elu(x, alpha: 0.5)),
            (GELU(), gelu(x)), (GELU(approximate: .tanh), gelu(x, approximate: .tanh)), (SiLU(), silu(x)), (Sigmoid(), sigmoid(x)),
            (Tanh(), tanh(x)), (Softplus(), softplus(x)), (Softmax(axis: 0), softmax(x, axis: 0)), (LogSoftmax(), logSoftmax(x)),
        ]
        for (module, expected) in pairs {
            #expect(module(x).value == expected.value, "\(module)")
        }
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() throws {
        let functions: [(String, (Variable) -> Variable)] = [
            ("relu", relu), ("leakyReLU", { leakyReLU($0, negativeSlope: 0.1) }), ("elu", { elu($0, alpha: 1.5) }),
            ("gelu", { gelu($0) }), ("gelu tanh", { gelu($0, approximate: .tanh) }), ("silu", silu), ("sigmoid", sigmoid),
            ("tanh", tanh), ("softplus", { softplus($0) }), ("softplus beta", { softplus($0, beta: 3, threshold: 5) }),
            ("softmax", { softmax($0, axis: 1) }), ("logSoftmax", { logSoftmax($0, axis: 0) }), ("erf", erf),
        ]
        for (name, f) in functions {
            try gradcheck({ f($0[0]) }, inputs: [points], name: name)
            if !name.contains("oftmax") { try gradcheck({ f($0[0]) }, inputs: [Tensor(0.37)], name: "\(name) (scalar)") }
            try gradgradcheck({ f($0[0]) }, inputs: [points], name: name)
        }
    }

    @Test func gradientsAtTheKinksArePyTorchs() {
        let zero = doubles([1], [0])
        #expect(gradient(at: zero, relu).item == 0)
        #expect(gradient(at: zero) { leakyReLU($0, negativeSlope: 0.1) }.item == 0.1)
        #expect(gradient(at: zero) { elu($0, alpha: 1.5) }.item == 1.5)
        // Smooth ones at 0: GELU′(0) = ½, SiLU′(0) = ½, softplus′(0) = ½.
        #expect(gradient(at: zero) { gelu($0) }.item == 0.5)
        #expect(gradient(at: zero, silu).item == 0.5)
        #expect(gradient(at: zero) { softplus($0) }.item == 0.5)
        // Far from 0, no NaN from the unused exponential branch of ELU.
        #expect(gradient(at: doubles([1], [1000])) { elu($0) }.item == 1)
    }
}
