import Foundation
import Testing
@testable import Optim

/// Two parameters with gradients [3, −4] and [[12]] (global 2-norm 13) and one without a gradient.
func clippingParameters(dtype: DType = .float64) -> [Variable] {
    let a = Variable(Tensor(shape: [2], scalars: [0.0, 0], dtype: dtype), requiresGrad: true)
    let b = Variable(Tensor(shape: [1, 1], scalars: [0.0], dtype: dtype), requiresGrad: true)
    let idle = Variable(Tensor(shape: [1], scalars: [0.0], dtype: dtype), requiresGrad: true)
    a.grad = Tensor(shape: [2], scalars: [3, -4], dtype: dtype)
    b.grad = Tensor(shape: [1, 1], scalars: [12], dtype: dtype)
    return [a, idle, b]
}

@Suite struct GradientClippingTests {
    @Test func scalesByTheGlobalTwoNorm() {
        let parameters = clippingParameters()
        let norm = clipGradNorm(parameters, maxNorm: 6.5)
        #expect(norm == 13)
        let c = 6.5 / (13 + 1e-6)
        #expect(parameters[0].grad!.doubles == [3 * c, -4 * c])
        #expect(parameters[2].grad!.doubles == [12 * c])
        #expect(parameters[1].grad == nil)
    }

    @Test func leavesSmallGradientsAlone() {
        let parameters = clippingParameters()
        #expect(clipGradNorm(parameters, maxNorm: 20) == 13)
        #expect(parameters[0].grad!.doubles == [3, -4] && parameters[2].grad!.doubles == [12])
    }

    @Test func otherNorms() {
        var parameters = clippingParameters()
        #expect(clipGradNorm(parameters, maxNorm: 6, normType: .infinity) == 12)
        let cInfinity: Double = 6 / (12 + 1e-6)
        #expect(parameters[2].grad!.doubles == [12 * cInfinity])
        parameters = clippingParameters()
        #expect(clipGradNorm(parameters, maxNorm: 1, normType: 1) == 19)
        let cOne: Double = 1 / (19 + 1e-6)
        #expect(parameters[0].grad!.doubles == [3 * cOne, -4 * cOne])
        parameters = clippingParameters()
        let norm3 = clipGradNorm(parameters, maxNorm: 100, normType: 3)
        #expect(Swift.abs(norm3 - cbrt(27.0 + 64 + 1728)) < 1e-12)
        #expect(parameters[0].grad!.doubles == [3, -4])
    }

    @Test func float32Gradients() {
        let parameters = clippingParameters(dtype: .float32)
        #expect(clipGradNorm(parameters, maxNorm: 6.5) == 13)
        #expect(parameters[0].grad!.dtype == .float32)
        let c = 6.5 / (13 + 1e-6)
        #expect(parameters[0].grad!.floats == [Float(3 * c), Float(-4 * c)])
    }

    /// Gradients long enough for the eight-lane sums, with a tail: the norms match a plain sum in Double of the
    /// Float values (the lanes only reorder the additions).
    @Test(arguments: [1.0, 2.0])
    func longGradientsMatchAPlainSum(normType: Double) {
        let counts = [1003, 8, 5]
        let parameters = counts.enumerated().map { index, count in
            let values = (0..<count).map { Float(sin(Double($0 * 7 + index))) * 3 }
            let parameter = Variable(Tensor.zeros([count], dtype: .float32), requiresGrad: true)
            parameter.grad = Tensor(shape: [count], scalars: values.map(Double.init), dtype: .float32)
            return parameter
        }
        let plain = parameters.flatMap { $0.grad!.floats }.reduce(0.0) { $0 + pow(Swift.abs(Double($1)), normType) }
        let expected = pow(plain, 1 / normType)
        let norm = clipGradNorm(parameters, maxNorm: 1e9, normType: normType)
        #expect(Swift.abs(norm - expected) <= 1e-12 * expected, "norm \(norm), plain sum \(expected)")
    }

    @Test func noGradientsGiveZero() {
        #expect(clipGradNorm([Variable(Tensor([1.0]), requiresGrad: true)], maxNorm: 1) == 0)
    }

    @Test func clipByValue() {
        let parameters = clippingParameters()
        clipGradValue(parameters, clipValue: 3.5)
        #expect(parameters[0].grad!.doubles == [3, -3.5])
        #expect(parameters[2].grad!.doubles == [3.5])
        #expect(parameters[1].grad == nil)
    }
}
