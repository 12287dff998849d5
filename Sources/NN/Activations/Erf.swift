import Foundation

/// The error function `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`, elementwise.  ∂/∂x = g · 2/√π · e^(−x²).
///
/// The backward is written with differentiable operations, so `erf` has derivatives of every order
/// (GELU's second derivative relies on it).
struct Erf: Op {
    func forward(_ x: [Tensor]) -> Tensor { mapElements(x[0], Foundation.erf) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let x = inputs[0]
        return [g * (-(x * x)).exp() * (2 / Double.pi.squareRoot())]
    }
}

/// The error function, elementwise, differentiable to every order.
public func erf(_ x: Variable) -> Variable { Erf()(x) }
