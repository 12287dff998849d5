// Upsampling (PyTorch's `F.interpolate` / `nn.Upsample`) in nearest, linear and bilinear modes: the two ops of
// the pair in UpsampleKernels.swift, and the public functions that build their plan from sizes or scale factors.

/// How ``Variable/upsample(size:mode:alignCorners:)`` computes new samples.
public enum UpsampleMode: String, Sendable {
    /// The input sample at `⌊o · in/out⌋` (PyTorch's `"nearest"`), for `[N, C, L]` and `[N, C, H, W]`.
    case nearest
    /// Linear interpolation along the length of `[N, C, L]` (PyTorch's `"linear"`).
    case linear
    /// Linear interpolation along height and width of `[N, C, H, W]` (PyTorch's `"bilinear"`).
    case bilinear
}

/// `y = interpolate(x)` through a fixed plan.  ∂/∂x = the plan's adjoint applied to g (``UpsampleAdjoint``).
struct Upsample: Op {
    let plan: InterpolationPlan
    func forward(_ x: [Tensor]) -> Tensor { plan.interpolate(x[0]) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [UpsampleAdjoint(plan: plan)(g)] }
}

/// The adjoint of ``Upsample``: each output gradient added back to the samples it was read from.
/// ∂/∂g = the interpolation of the incoming gradient, so second order works.
struct UpsampleAdjoint: Op {
    let plan: InterpolationPlan
    func forward(_ x: [Tensor]) -> Tensor { plan.scatter(x[0]) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [Upsample(plan: plan)(g)] }
}

extension InterpolationPlan {
    /// The plan for input `shape` (`[N, C, L]` or `[N, C, H, W]`) and output sizes, trapping in the caller's terms.
    init(shape: [Int], size: [Int], scaleFactors: [Double]?, mode: UpsampleMode, alignCorners: Bool) {
        let spatial = Array(shape.dropFirst(2))
        let what = "upsample(\(mode.rawValue))"
        switch mode {
        case .nearest:
            precondition(shape.count == 3 || shape.count == 4, "\(what): input must be [N, C, L] or [N, C, H, W], got shape \(shape)")
            precondition(!alignCorners, "\(what): alignCorners applies only to linear and bilinear modes")
        case .linear: precondition(shape.count == 3, "\(what): input must be [N, C, L], got shape \(shape)")
        case .bilinear: precondition(shape.count == 4, "\(what): input must be [N, C, H, W], got shape \(shape)")
        }
        precondition(size.count == spatial.count && size.allSatisfy { $0 >= 1 },
                     "\(what): output size \(size) must have one positive size per spatial dimension of input \(shape)")
        precondition(spatial.allSatisfy { $0 >= 1 }, "\(what): input \(shape) has an empty spatial dimension")
        func axis(_ d: Int) -> InterpolationAxis {
            let scale = scaleFactors?[d]
            return mode == .nearest
                ? .nearest(input: spatial[d], output: size[d], scaleFactor: scale)
                : .linear(input: spatial[d], output: size[d], scaleFactor: scale, alignCorners: alignCorners)
        }
        let identity = InterpolationAxis.nearest(input: 1, output: 1, scaleFactor: nil)
        self.init(rows: spatial.count == 2 ? axis(0) : identity, columns: axis(spatial.count - 1))
    }
}

extension Variable {
    /// Upsampled (or downsampled) to the spatial size `size` (PyTorch's `F.interpolate(x, size=…)`).
    ///
    /// Input `[N, C, L]` (`size` `[Lo]`) or `[N, C, H, W]` (`size` `[Ho, Wo]`); output `[N, C, Lo]` or
    /// `[N, C, Ho, Wo]`. Along each spatial axis, output position `o` reads:
    /// - `.nearest`: input `min(⌊o · in/out⌋, in − 1)` (PyTorch's legacy `"nearest"`, with its `Float` scale);
    /// - `.linear`, `.bilinear`: the source coordinate `s = (o + ½)·in/out − ½` clamped below at 0, or
    ///   `s = o·(in − 1)/(out − 1)` with `alignCorners`, blending inputs `⌊s⌋` and `⌊s⌋ + 1` by `s − ⌊s⌋`
    ///   (both axes for `.bilinear`: four samples weighted by the products).
    ///
    /// Gradient: the adjoint of that linear map (each output's gradient added back to the samples it read with
    /// the same weights), an op of its own whose gradient is the interpolation again, so second order works.
    /// - Precondition: rank 3 for `.linear`, 4 for `.bilinear`, 3 or 4 for `.nearest` (which takes no
    ///   `alignCorners`); positive sizes. Otherwise the program stops naming the mode and the shapes.
    public func upsample(size: [Int], mode: UpsampleMode = .nearest, alignCorners: Bool = false) -> Variable {
        upsampled(InterpolationPlan(shape: shape, size: size, scaleFactors: nil, mode: mode, alignCorners: alignCorners))
    }

    /// Applies `plan` to the last two dimensions; an `[N, C, L]` input goes through as `[N, C, 1, L]`.
    private func upsampled(_ plan: InterpolationPlan) -> Variable {
        guard rank == 3 else { return Upsample(plan: plan)(self) }
        return Upsample(plan: plan)(unsqueezed(axis: 2)).squeezed(axis: 2)
    }

    /// Upsampled by `scaleFactors`, one per spatial dimension (PyTorch's `F.interpolate(x, scale_factor=…)`):
    /// output sizes `⌊in · factor⌋`, and the sampling positions use `1/factor` as the scale, as PyTorch does
    /// (without `recompute_scale_factor`). Otherwise as ``upsample(size:mode:alignCorners:)``.
    /// - Precondition: one positive factor per spatial dimension, giving sizes of at least 1.
    public func upsample(scaleFactors: [Double], mode: UpsampleMode = .nearest, alignCorners: Bool = false) -> Variable {
        let spatial = Array(shape.dropFirst(2))
        precondition(rank >= 3 && scaleFactors.count == spatial.count && scaleFactors.allSatisfy { $0 > 0 && $0.isFinite },
                     "upsample(\(mode.rawValue)): scale factors \(scaleFactors) must be positive, one per spatial dimension of input \(shape)")
        let size = zip(spatial, scaleFactors).map { Int((Double($0) * $1).rounded(.down)) }
        return upsampled(InterpolationPlan(shape: shape, size: size, scaleFactors: scaleFactors, mode: mode, alignCorners: alignCorners))
    }

    /// Upsampled by the same `scaleFactor` along every spatial dimension; see ``upsample(scaleFactors:mode:alignCorners:)``.
    public func upsample(scaleFactor: Double, mode: UpsampleMode = .nearest, alignCorners: Bool = false) -> Variable {
        upsample(scaleFactors: Array(repeating: scaleFactor, count: Swift.max(rank - 2, 0)), mode: mode, alignCorners: alignCorners)
    }
}

extension Tensor {
    /// ``Variable/upsample(size:mode:alignCorners:)`` without autograd.
    public func upsample(size: [Int], mode: UpsampleMode = .nearest, alignCorners: Bool = false) -> Tensor {
        Variable(self).upsample(size: size, mode: mode, alignCorners: alignCorners).value
    }

    /// ``Variable/upsample(scaleFactor:mode:alignCorners:)`` without autograd.
    public func upsample(scaleFactor: Double, mode: UpsampleMode = .nearest, alignCorners: Bool = false) -> Tensor {
        Variable(self).upsample(scaleFactor: scaleFactor, mode: mode, alignCorners: alignCorners).value
    }
}
