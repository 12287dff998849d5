// Arithmetic with broadcasting. Gradients may come back in the broadcast shape; the engine sums
// them to each input's shape.

/// `a + b`.  ∂/∂a = g, ∂/∂b = g.
struct Add: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] + x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g, g] }
}

/// `a − b`.  ∂/∂a = g, ∂/∂b = −g.
struct Subtract: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] - x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g, -g] }
}

/// `a × b`.  ∂/∂a = g·b, ∂/∂b = g·a.
struct Multiply: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        [needed[0] ? g * inputs[1] : nil, needed[1] ? g * inputs[0] : nil]
    }
}

/// `a ÷ b`.  ∂/∂a = g / b, ∂/∂b = −g·a / b².
struct Divide: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] / x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (a, b) = (inputs[0], inputs[1])
        return [needed[0] ? g / b : nil, needed[1] ? -(g * a) / (b * b) : nil]
    }
}

/// `−x`.  ∂/∂x = −g.
struct Negate: Op {
    func forward(_ x: [Tensor]) -> Tensor { -x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [-g] }
}

/// `x + s` for a constant scalar.  ∂/∂x = g.
struct AddScalar: Op {
    let scalar: Double
    func forward(_ x: [Tensor]) -> Tensor { x[0] + scalar }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g] }
}

/// `x × s` for a constant scalar.  ∂/∂x = g·s.
struct MultiplyScalar: Op {
    let scalar: Double
    func forward(_ x: [Tensor]) -> Tensor { x[0] * scalar }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g * scalar] }
}

/// `xᵖ` for a constant exponent.  ∂/∂x = g·p·xᵖ⁻¹ (0 when p = 0).
struct PowerScalar: Op {
    let exponent: Double
    func forward(_ x: [Tensor]) -> Tensor { x[0].pow(exponent) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        if exponent == 0 { return [nil] }
        if exponent == 1 { return [g] }
        return [g * inputs[0].pow(exponent - 1) * exponent]
    }
}

/// `aᵇ` elementwise.  ∂/∂a = g·b·aᵇ⁻¹, taken as 0 where b = 0;  ∂/∂b = g·aᵇ·ln a, taken as 0 where a = 0
/// (both as PyTorch does, so that `0⁰` has zero gradients rather than NaN).
struct Power: Op {
    func forward(_ x: [Tensor]) -> Tensor { Tensor.pow(x[0], x[1]) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (a, b) = (inputs[0], inputs[1])
        var ga: Variable? = nil
        if needed[0] {
            let bIsZero = b.value .== 0
            ga = Variable.where(bIsZero, Variable(Tensor.zeros(like: output.value)), g * b * Variable.pow(a, b - 1))
        }
        var gb: Variable? = nil
        if needed[1] {
            let aIsZero = a.value .== 0
            let safeA = Variable.where(aIsZero, Variable(Tensor.ones(like: a.value)), a)
            gb = Variable.where(aIsZero, Variable(Tensor.zeros(like: output.value)), g * output * safeA.log())
        }
        return [ga, gb]
    }
}
