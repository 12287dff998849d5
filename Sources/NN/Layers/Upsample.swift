/// Upsamples `[N, C, L]` or `[N, C, H, W]` batches to a fixed size or by a scale factor (PyTorch's `nn.Upsample`).
///
/// Computes `Variable.upsample(size:mode:alignCorners:)` (or the scale-factor form) with the layer's
/// options; nearest by default, as PyTorch. No parameters or buffers, so its state dict is empty, as PyTorch's.
///
/// ```swift
/// let up = Upsample(scaleFactor: 2, mode: .bilinear)
/// let y = up(Variable(Tensor.randn([1, 3, 16, 16])))   // [1, 3, 32, 32]
/// ```
public final class Upsample: Module {
    /// The output's spatial size, when the layer was made with one.
    public let size: [Int]?
    /// The factor per spatial dimension (one entry: every dimension), when the layer was made with one.
    public let scaleFactor: [Double]?
    /// How new samples are computed.
    public let mode: UpsampleMode
    /// Whether linear modes align the corner samples (PyTorch's `align_corners`; nil is its default, false).
    public let alignCorners: Bool?

    /// Upsamples to `size` (one entry per spatial dimension, or one for all).
    public init(size: [Int], mode: UpsampleMode = .nearest, alignCorners: Bool? = nil) {
        precondition(!size.isEmpty && size.allSatisfy { $0 >= 1 }, "Upsample: size \(size) must be positive")
        precondition(mode != .nearest || alignCorners == nil, "Upsample: alignCorners applies only to linear and bilinear modes")
        (self.size, scaleFactor, self.mode, self.alignCorners) = (size, nil, mode, alignCorners)
        super.init()
    }

    /// Upsamples by `scaleFactor` along every spatial dimension.
    public convenience init(scaleFactor: Double, mode: UpsampleMode = .nearest, alignCorners: Bool? = nil) {
        self.init(scaleFactors: [scaleFactor], mode: mode, alignCorners: alignCorners)
    }

    /// Upsamples by `scaleFactors` (one per spatial dimension, or one for all).
    public init(scaleFactors: [Double], mode: UpsampleMode = .nearest, alignCorners: Bool? = nil) {
        precondition(!scaleFactors.isEmpty && scaleFactors.allSatisfy { $0 > 0 && $0.isFinite },
                     "Upsample: scale factors \(scaleFactors) must be positive")
        precondition(mode != .nearest || alignCorners == nil, "Upsample: alignCorners applies only to linear and bilinear modes")
        (size, scaleFactor, self.mode, self.alignCorners) = (nil, scaleFactors, mode, alignCorners)
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        let spatial = Swift.max(x.rank - 2, 0)
        func expanded<T>(_ values: [T]) -> [T] { values.count == 1 ? Array(repeating: values[0], count: spatial) : values }
        if let size { return x.upsample(size: expanded(size), mode: mode, alignCorners: alignCorners ?? false) }
        return x.upsample(scaleFactors: expanded(scaleFactor!), mode: mode, alignCorners: alignCorners ?? false)
    }

    public override var summary: String {
        (size.map { "size: \($0)" } ?? "scaleFactor: \(scaleFactor!)") + ", mode: \(mode.rawValue)"
            + (alignCorners.map { ", alignCorners: \($0)" } ?? "")
    }
}
