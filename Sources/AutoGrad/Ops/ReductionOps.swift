/// `Σ x` over `axes`.  ∂/∂x = g broadcast back over the summed axes.
struct Sum: Op {
    let axes: [Int]
    let keepDims: Bool
    func forward(_ x: [Tensor]) -> Tensor { x[0].sum(axes: axes, keepDims: keepDims) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let shape = inputs[0].shape
        return [g.reshaped(Tensor.reducedShape(shape, axes: axes, keepDims: true)).broadcast(to: shape)]
    }
}

/// `max x` or `min x` over `axes`. The gradient is shared equally by the elements that attain the
/// extremum (ties split, like `torch.amax`).
struct ExtremumReduction: Op {
    let axes: [Int]
    let keepDims: Bool
    let isMaximum: Bool
    var name: String { isMaximum ? "Max" : "Min" }
    func forward(_ x: [Tensor]) -> Tensor {
        isMaximum ? x[0].max(axes: axes, keepDims: keepDims) : x[0].min(axes: axes, keepDims: keepDims)
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let x = inputs[0].value
        let kept = Tensor.reducedShape(x.shape, axes: axes, keepDims: true)
        let attains = x .== output.value.reshaped(kept)
        let share = attains / attains.sum(axes: axes, keepDims: true)
        return [g.reshaped(kept).broadcast(to: x.shape) * Variable(share)]
    }
}

/// `log softmax(x)` along `axis`.  ∂/∂x = g − softmax(x)·Σ g.
struct LogSoftmax: Op {
    let axis: Int
    func forward(_ x: [Tensor]) -> Tensor { x[0].logSoftmax(axis: axis) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g - output.exp() * g.sum(axes: [axis], keepDims: true)]
    }
}

/// `softmax(x)` along `axis`.  ∂/∂x = y·(g − Σ g·y) with y the output.
struct Softmax: Op {
    let axis: Int
    func forward(_ x: [Tensor]) -> Tensor { x[0].softmax(axis: axis) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [output * (g - (g * output).sum(axes: [axis], keepDims: true))]
    }
}

/// Running sums along `axis` (prefix sums, or suffix sums when `reverse`).  ∂/∂x = the scan of g in the
/// other direction (a suffix sum for a prefix sum): the op is linear and the reversed scan is its
/// transpose, so its backward is the same op again and every order of derivative works.
struct CumSum: Op {
    let axis: Int
    var reverse = false
    func forward(_ x: [Tensor]) -> Tensor { x[0].cumsum(axis: axis, reverse: reverse) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [CumSum(axis: axis, reverse: !reverse)(g)]
    }
}
