// 2-D pooling on Tensor and Variable, PyTorch's `max_pool2d`, `avg_pool2d` and `adaptive_avg_pool2d`.
//
// Layout: `[N, C, H, W]` (or an unbatched `[C, H, W]`); every leading dimension is kept and each `H × W`
// plane is pooled on its own. Sizes are `(height, width)` pairs; the `Int` overloads use one size for both.

extension Tensor {
    /// Max pooling over windows of `kernelSize`, moved by `stride` (default: the kernel size), over the input
    /// padded by `padding` with −∞ (PyTorch's `max_pool2d`, dilation 1, `ceil_mode=False`).
    ///
    /// `y[n, c, i, j] = max { x[n, c, i·sₕ − pₕ + a, j·s_w − p_w + b] : 0 ≤ a < kₕ, 0 ≤ b < k_w, inside x }`.
    ///
    /// Shapes: `[N, C, H, W] → [N, C, H′, W′]` (or `[C, H, W] → [C, H′, W′]`), with
    /// `H′ = ⌊(H + 2pₕ − kₕ) / sₕ⌋ + 1` and likewise `W′`.
    ///
    /// - Precondition: kernel and stride positive; `0 ≤ padding ≤ kernel / 2`; the padded input is at least
    ///   as large as the kernel; rank 3 or 4.
    public func maxPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        windowMax(PoolWindows.sliding("MaxPool2d", inputShape: shape, kernel: kernelSize, stride: stride ?? kernelSize,
                                      padding: padding), withIndices: false).values
    }

    /// Max pooling with a square kernel; see `maxPool2d(kernelSize:stride:padding:)`.
    public func maxPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        maxPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// Max pooling that also returns where each maximum was: the flat index `h·W + w` within its input plane
    /// (PyTorch's `return_indices=True`). Among equal maxima the first in row-major order is chosen; a NaN
    /// in a window is propagated.
    ///
    /// Shapes: `values` as `maxPool2d(kernelSize:stride:padding:)`; `indices` has the same shape.
    public func maxPool2dWithIndices(kernelSize: (Int, Int), stride: (Int, Int)? = nil,
                                     padding: (Int, Int) = (0, 0)) -> (values: Tensor, indices: TensorIndices) {
        let windows = PoolWindows.sliding("MaxPool2d", inputShape: shape, kernel: kernelSize, stride: stride ?? kernelSize,
                                          padding: padding)
        let (values, indices) = windowMax(windows)
        return (values, indices!)
    }

    /// Average pooling over windows of `kernelSize`, moved by `stride` (default: the kernel size), over the
    /// input padded with zeros by `padding` (PyTorch's `avg_pool2d`, `ceil_mode=False`).
    ///
    /// `y[n, c, i, j] = Σ_window x / d(i, j)`, the sum over the window's positions inside `x`, where the
    /// divisor `d` is `divisorOverride` when given, else the window's size counting padded positions
    /// (`countIncludePad`, PyTorch's default) or only the positions inside `x`.
    ///
    /// Shapes: as `maxPool2d(kernelSize:stride:padding:)`.
    ///
    /// - Precondition: as for max pooling; `divisorOverride` is non-zero.
    public func avgPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
        windowAveraged(.sliding("AvgPool2d", inputShape: shape, kernel: kernelSize, stride: stride ?? kernelSize,
                                padding: padding, countIncludePad: countIncludePad, divisorOverride: divisorOverride))
    }

    /// Average pooling with a square kernel; see `avgPool2d(kernelSize:stride:padding:countIncludePad:divisorOverride:)`.
    public func avgPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
        avgPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }

    /// Adaptive average pooling to `outputSize` (PyTorch's `adaptive_avg_pool2d`): along a dimension of size
    /// `n` pooled to `m`, output `i` is the mean over `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉` (windows may overlap).
    ///
    /// Shapes: `[N, C, H, W] → [N, C, outputSize.0, outputSize.1]` (or the unbatched `[C, H, W]`).
    ///
    /// - Precondition: `outputSize` positive; `H, W > 0`.
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) -> Tensor {
        windowAveraged(.adaptive("AdaptiveAvgPool2d", inputShape: shape, outputSize: outputSize))
    }

    /// Adaptive average pooling to a square `outputSize × outputSize`.
    public func adaptiveAvgPool2d(outputSize: Int) -> Tensor {
        adaptiveAvgPool2d(outputSize: (outputSize, outputSize))
    }
}

extension Variable {
    /// Max pooling (see `Tensor.maxPool2d(kernelSize:stride:padding:)` for the math and shapes).
    ///
    /// Gradient: `g` goes to the position of each window's maximum (scatter-added, so an input that is the
    /// maximum of several overlapping windows collects all their gradients); **among tied maxima the first
    /// in row-major order gets the whole gradient** (PyTorch's choice). The backward is itself an op whose
    /// gradient gathers at the same positions, so higher orders work.
    public func maxPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Variable {
        let windows = PoolWindows.sliding("MaxPool2d", inputShape: shape, kernel: kernelSize, stride: stride ?? kernelSize,
                                          padding: padding)
        let (values, indices) = value.windowMax(windows)
        return MaxPoolGather(windows: windows, indices: indices!, values: values)(self)
    }

    /// Max pooling with a square kernel.
    public func maxPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        maxPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// Average pooling (see `Tensor.avgPool2d(kernelSize:stride:padding:countIncludePad:divisorOverride:)`).
    ///
    /// Gradient: `∂/∂x[p] = Σ_{windows (i, j) ∋ p} g[i, j] / d(i, j)`, the adjoint of the (linear) pooling.
    public func avgPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Variable {
        WindowAverage(windows: .sliding("AvgPool2d", inputShape: shape, kernel: kernelSize, stride: stride ?? kernelSize,
                                        padding: padding, countIncludePad: countIncludePad,
                                        divisorOverride: divisorOverride))(self)
    }

    /// Average pooling with a square kernel.
    public func avgPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Variable {
        avgPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }

    /// Adaptive average pooling (see `Tensor.adaptiveAvgPool2d(outputSize:)`).
    ///
    /// Gradient: each output's gradient spread evenly over its window.
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) -> Variable {
        WindowAverage(windows: .adaptive("AdaptiveAvgPool2d", inputShape: shape, outputSize: outputSize))(self)
    }

    /// Adaptive average pooling to a square `outputSize × outputSize`.
    public func adaptiveAvgPool2d(outputSize: Int) -> Variable {
        adaptiveAvgPool2d(outputSize: (outputSize, outputSize))
    }
}
