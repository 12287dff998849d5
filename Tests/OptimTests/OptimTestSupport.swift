import Testing
@testable import Optim

/// The loss ½ Σ aᵢθᵢ² + Σ bᵢθᵢ, whose gradient aᵢθᵢ + bᵢ the reference trajectories use.
struct Quadratic {
    let a: [Double]
    let b: [Double]

    static let standard = Quadratic(a: [1.0, 2.5, 0.4], b: [-0.3, 0.8, 1.2])
    static let start: [Double] = [0.7, -1.3, 2.1]

    /// The gradient in plain Double arithmetic, for the reference.
    func gradient(_ theta: [Double]) -> [Double] {
        (0..<theta.count).map { a[$0] * theta[$0] + b[$0] }
    }

    /// Fills `parameter.grad` by running the loss through autograd.
    func backward(_ parameter: Variable) {
        let dtype = parameter.dtype
        let a = Variable(Tensor(shape: [self.a.count], scalars: self.a, dtype: dtype))
        let b = Variable(Tensor(shape: [self.b.count], scalars: self.b, dtype: dtype))
        let loss = (a * parameter * parameter).sum() * 0.5 + (b * parameter).sum()
        loss.backward()
    }
}

/// A fresh parameter at `Quadratic.start`.
func startParameter(dtype: DType = .float64) -> Variable {
    Variable(Tensor(shape: [Quadratic.start.count], scalars: Quadratic.start, dtype: dtype), requiresGrad: true)
}

/// The parameter values after each of `steps` optimizer steps on `problem`.
func trajectory(_ optimizer: any Optimizer, _ parameter: Variable, _ problem: Quadratic = .standard,
                steps: Int) -> [[Double]] {
    (0..<steps).map { _ in
        optimizer.zeroGrad()
        problem.backward(parameter)
        optimizer.step()
        return parameter.value.doubles
    }
}

/// Expects two trajectories to agree within a relative tolerance.
func expectClose(_ actual: [[Double]], _ expected: [[Double]], tolerance: Double = 1e-12,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (step, (a, e)) in zip(actual, expected).enumerated() {
        #expect(a.count == e.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, e) {
            #expect(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y)),
                    "step \(step + 1): \(a) vs expected \(e)", sourceLocation: sourceLocation)
        }
    }
}
