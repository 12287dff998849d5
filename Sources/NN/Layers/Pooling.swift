/// 2-D max pooling as a layer (PyTorch's `nn.MaxPool2d`, dilation 1, `ceil_mode=False`).
///
/// Input `[N, C, H, W]` or `[C, H, W]`; output `[N, C, H′, W′]` with `H′ = ⌊(H + 2p − k) / s⌋ + 1`
/// (likewise `W′`). Padding counts as −∞. See `Variable.maxPool2d(kernelSize:stride:padding:)` for the
/// gradient and the tie rule (the first maximum in row-major order gets the gradient).
///
/// ```swift
/// let pool = MaxPool2d(kernelSize: 2)              // stride 2
/// print(pool(Variable(Tensor.randn([8, 16, 28, 28]))).shape)   // [8, 16, 14, 14]
/// ```
public final class MaxPool2d: Module {
    /// The window size, `(height, width)`.
    public let kernelSize: (Int, Int)
    /// The step between windows, `(height, width)`.
    public let stride: (Int, Int)
    /// The implicit −∞ padding on each side, `(height, width)`.
    public let padding: (Int, Int)

    /// Max pooling with windows of `kernelSize`, moved by `stride` (default: the kernel size).
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    /// Max pooling with square windows.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    public override func forward(_ x: Variable) -> Variable {
        x.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override var summary: String {
        "kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
    }
}

/// 2-D average pooling as a layer (PyTorch's `nn.AvgPool2d`, `ceil_mode=False`).
///
/// `y[i, j] = Σ_window x / d(i, j)`; the divisor `d` is `divisorOverride` when given, else the window's size
/// including zero padding (`countIncludePad`, the default) or excluding it. Shapes as ``MaxPool2d``.
public final class AvgPool2d: Module {
    /// The window size, `(height, width)`.
    public let kernelSize: (Int, Int)
    /// The step between windows, `(height, width)`.
    public let stride: (Int, Int)
    /// The implicit zero padding on each side, `(height, width)`.
    public let padding: (Int, Int)
    /// Whether padded positions count in the divisor.
    public let countIncludePad: Bool
    /// A fixed divisor replacing the window size, if any.
    public let divisorOverride: Int?

    /// Average pooling with windows of `kernelSize`, moved by `stride` (default: the kernel size).
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludePad = countIncludePad
        self.divisorOverride = divisorOverride
        super.init()
    }

    /// Average pooling with square windows.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                            countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }

    public override func forward(_ x: Variable) -> Variable {
        x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding,
                    countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }

    public override var summary: String {
        "kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (countIncludePad ? "" : ", countIncludePad: false")
            + (divisorOverride.map { ", divisorOverride: \($0)" } ?? "")
    }
}

/// 2-D adaptive average pooling to a fixed output size (PyTorch's `nn.AdaptiveAvgPool2d`).
///
/// Along a dimension of size `n` pooled to `m`, output `i` averages `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉`.
/// Input `[N, C, H, W]` or `[C, H, W]`; output `[N, C, outputSize.0, outputSize.1]`.
///
/// ```swift
/// let gap = AdaptiveAvgPool2d(outputSize: 1)       // global average pooling
/// print(gap(Variable(Tensor.randn([8, 64, 7, 7]))).shape)      // [8, 64, 1, 1]
/// ```
public final class AdaptiveAvgPool2d: Module {
    /// The output's spatial size, `(height, width)`.
    public let outputSize: (Int, Int)

    /// Adaptive average pooling to `outputSize`.
    public init(outputSize: (Int, Int)) {
        precondition(outputSize.0 > 0 && outputSize.1 > 0, "AdaptiveAvgPool2d: output size \(outputSize) must be positive")
        self.outputSize = outputSize
        super.init()
    }

    /// Adaptive average pooling to `outputSize × outputSize`.
    public convenience init(outputSize: Int) {
        self.init(outputSize: (outputSize, outputSize))
    }

    public override func forward(_ x: Variable) -> Variable {
        x.adaptiveAvgPool2d(outputSize: outputSize)
    }

    public override var summary: String { "outputSize: \(outputSize)" }
}
