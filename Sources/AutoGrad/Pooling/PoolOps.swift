// The differentiable primitives of 2-D pooling. Each comes with its adjoint, and each one's backward is
// the other, so the families are closed under differentiation (as Gather/ScatterAdd): gradients of any
// order work.

/// Max pooling as a gather at the recorded argmax positions: `y[…, k] = x[…, indices[…, k]]`, where
/// `indices` was found on the same input over `windows` (``Tensor/windowMax(_:withIndices:)``).
/// ∂/∂x = g scattered to the argmax positions (``MaxPoolScatter``).
struct MaxPoolGather: Op {
    let windows: PoolWindows
    let indices: TensorIndices
    /// The output when it was found together with `indices` in one pass over this op's input (as
    /// `Variable.maxPool2d` does); nil when the gather must read it (the op as the gradient of
    /// ``MaxPoolScatter``).
    let values: Tensor?
    var name: String { windows.opName }
    func forward(_ x: [Tensor]) -> Tensor {
        guard let values else { return x[0].planeGathered(indices) }
        precondition(x[0].shape == windows.inputShape, "\(name): input of shape \(x[0].shape), expected \(windows.inputShape)")
        return values
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [MaxPoolScatter(windows: windows, indices: indices)(g)]
    }
}

/// The adjoint of ``MaxPoolGather``: adds `g` into zeros of the pooled input's shape at the argmax
/// positions (max pooling's backward).  ∂/∂g = gg gathered at the same positions.
struct MaxPoolScatter: Op {
    let windows: PoolWindows
    let indices: TensorIndices
    var name: String { windows.opName + "Backward" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].maxPoolAdjoint(windows, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [MaxPoolGather(windows: windows, indices: indices, values: nil)(g)]
    }
}

/// Average pooling (sliding or adaptive), a linear map `y = A·x` over each plane.  ∂/∂x = Aᵀ·g
/// (``WindowAverageAdjoint``).
struct WindowAverage: Op {
    let windows: PoolWindows
    var name: String { windows.opName }
    func forward(_ x: [Tensor]) -> Tensor { x[0].windowAveraged(windows) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [WindowAverageAdjoint(windows: windows)(g)]
    }
}

/// The adjoint `Aᵀ·g` of ``WindowAverage``: each output's gradient spread evenly over its window,
/// divided by the same divisor.  ∂/∂g = A·gg (``WindowAverage``).
struct WindowAverageAdjoint: Op {
    let windows: PoolWindows
    var name: String { windows.opName + "Backward" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].windowAverageAdjoint(windows) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [WindowAverage(windows: windows)(g)]
    }
}
