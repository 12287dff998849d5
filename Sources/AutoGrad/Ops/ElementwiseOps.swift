/// `eˣ`.  ∂/∂x = g·eˣ (the output).
struct Exp: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].exp() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g * output] }
}

/// `ln x`.  ∂/∂x = g / x.
struct Log: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].log() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g / inputs[0]] }
}

/// `√x`.  ∂/∂x = g / (2√x).
struct Sqrt: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].sqrt() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g / output * 0.5] }
}

/// `|x|`.  ∂/∂x = g·sign(x); at x = 0 the gradient is 0 (PyTorch's choice).
struct Abs: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].abs() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * Variable(inputs[0].value.sign())]
    }
}

/// `sign(x)`: piecewise constant, so its gradient is 0 everywhere (none flows).
struct Sign: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].sign() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [nil] }
}

/// `tanh x`.  ∂/∂x = g·(1 − tanh²x).
struct Tanh: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].tanh() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * (1 - output * output)]
    }
}

/// `σ(x) = 1 / (1 + e⁻ˣ)`.  ∂/∂x = g·σ(x)·(1 − σ(x)).
struct Sigmoid: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].sigmoid() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * output * (1 - output)]
    }
}

/// `max(x, 0)`.  ∂/∂x = g where x > 0, else 0; at x = 0 the gradient is 0 (PyTorch's choice).
struct ReLU: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].relu() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [ScaledBelowZero(slope: 0)(g, inputs[0].detach())]
    }
}

/// `v · (s > 0 ? 1 : slope)` for a value `v` and a selector `s` of the same shape, in one pass: leaky
/// ReLU is `ScaledBelowZero(v: x, s: x)`, and the gradient of either (slope 0 for ReLU) is
/// `ScaledBelowZero(v: g, s: x)`, with no mask tensor in between.
///
/// ∂/∂v = the same op on the incoming gradient (it is linear in `v`); the selector only chooses the
/// factor, and its gradient is zero almost everywhere (ReLU's second derivative), so callers pass it
/// detached and get none.
struct ScaledBelowZero: Op {
    let slope: Double
    var name: String { "ScaledBelowZero" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].scaledBelowZero(selector: x[1], slope: slope) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [ScaledBelowZero(slope: slope)(g, inputs[1].detach()), nil]
    }
}

/// `min(max(x, lower), upper)`.  ∂/∂x = g where lower ≤ x ≤ upper (boundaries included, as PyTorch's
/// `clamp`), else 0. With `boundariesPass: false` it is PyTorch's `hardtanh`, whose gradient is g only
/// where lower < x < upper (0 at the bounds).
struct Clamp: Op {
    let lower: Double, upper: Double
    var boundariesPass = true
    var name: String { boundariesPass ? "Clamp" : "Hardtanh" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].clamped(min: lower, max: upper) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let x = inputs[0].value
        return [g * Variable(boundariesPass ? x.insideMask(lower, upper) : x.strictlyInsideMask(lower, upper))]
    }
}

/// `log σ(x) = −softplus(−x)`, stable for every x.  ∂/∂x = g·σ(−x) = g·(1 − σ(x)), written as the
/// sigmoid of `−x` so that it keeps its precision where σ(x) rounds to 1.
struct LogSigmoid: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].logSigmoid() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g * (-inputs[0]).sigmoid()] }
}

/// Elementwise `max(a, b)` or `min(a, b)`. The gradient goes to the selected input; on ties it is
/// split equally, g/2 to each (PyTorch's choice for `maximum`/`minimum`).
struct Extremum: Op {
    let isMaximum: Bool
    var name: String { isMaximum ? "Maximum" : "Minimum" }
    func forward(_ x: [Tensor]) -> Tensor { isMaximum ? Tensor.maximum(x[0], x[1]) : Tensor.minimum(x[0], x[1]) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let (a, b) = (inputs[0].value, inputs[1].value)
        let wins = isMaximum ? (a .> b) : (a .< b)
        let shareA = wins + (a .== b) * 0.5
        return [g * Variable(shareA), g * Variable(1 - shareA)]
    }
}

/// `condition ? a : b` elementwise, with a constant condition. The gradient goes to the chosen branch only.
struct Select: Op {
    let condition: Tensor
    var name: String { "Where" }
    func forward(_ x: [Tensor]) -> Tensor { Tensor.where(condition, x[0], x[1]) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let zero = Variable(Tensor.zeros([], dtype: g.dtype))
        return [needed[0] ? Variable.where(condition, g, zero) : nil,
                needed[1] ? Variable.where(condition, zero, g) : nil]
    }
}
