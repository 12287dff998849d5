// The differentiable primitives of 2-D pooling. Each comes with its adjoint, and each one's backward is
// the other, so the families are closed under differentiation (as Gather/ScatterAdd): gradients of any
// order work.

/// Max pooling as a gather at the recorded argmax positions: `y[…, k] = x[…, indices[…, k]]`, where
/// `indices` was found on the same input (``Tensor/windowArgmax(_:)``).  ∂/∂x = g scattered to the argmax
/// positions (``MaxPoolScatter``).
struct MaxPoolGather: Op {
    let inputShape: [Int]
    let indices: TensorIndices
    var name: String { "MaxPool2d" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].planeGathered(indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [MaxPoolScatter(inputShape: inputShape, indices: indices)(g)]
    }
}

/// The adjoint of ``MaxPoolGather``: adds `g` into zeros of the pooled input's shape at the argmax
/// positions (max pooling's backward).  ∂/∂g = gg gathered at the same positions.
struct MaxPoolScatter: Op {
    let inputShape: [Int]
    let indices: TensorIndices
    var name: String { "MaxPool2dBackward" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].planeScatteredAdd(into: inputShape, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [MaxPoolGather(inputShape: inputShape, indices: indices)(g)]
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
