// 1-D convolution as a 2-D one of height 1: the input [N, C, L] is viewed as [N, C, 1, L] and the weight
// [O, C/G, K] as [O, C/G, 1, K], so it runs on the same kernels, routes and gradients as conv2d (the reshapes
// are free, and every order of derivative comes with the 2-D family).

/// How a 1-D convolution pads its input (PyTorch's `padding` argument of `conv1d`). An integer literal `p` is
/// `.explicit(p)`.
public enum Conv1dPadding: Sendable, Equatable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// `p` zeros at both ends.
    case explicit(Int)
    /// No padding (PyTorch's `padding="valid"`).
    case valid
    /// The output has the input's length (PyTorch's `padding="same"`; stride 1 only): `d·(k − 1)` zeros in
    /// total, `⌊d·(k − 1) / 2⌋` before and the rest after.
    case same

    /// `.explicit(value)`.
    public init(integerLiteral value: Int) { self = .explicit(value) }

    /// `"p"`, `"valid"` or `"same"`.
    public var description: String {
        switch self {
        case .explicit(let p): return "\(p)"
        case .valid: return "valid"
        case .same: return "same"
        }
    }

    /// The padding of the height-1 2-D convolution that computes this one.
    var planar: Conv2dPadding {
        switch self {
        case .explicit(let p): return .explicit(0, p)
        case .valid: return .valid
        case .same: return .same
        }
    }

    /// Zeros before and after an input for a kernel of `size` taps `dilation` apart.
    func amounts(kernel size: Int, dilation: Int) -> (before: Int, after: Int) {
        switch self {
        case .explicit(let p): return (p, p)
        case .valid: return (0, 0)
        case .same: return (dilation * (size - 1) / 2, dilation * (size - 1) - dilation * (size - 1) / 2)
        }
    }
}

/// Traps, naming `conv1d` and the shapes, unless the arguments describe a valid 1-D convolution.
private func checkConv1d(input: [Int], weight: [Int], bias: [Int]?, stride: Int, padding: Conv1dPadding, dilation: Int,
                         groups: Int) {
    precondition(input.count == 3, "conv1d: input must be [N, C, L], got shape \(input)")
    precondition(weight.count == 3, "conv1d: weight must be [outChannels, inChannels/groups, K], got shape \(weight)")
    precondition(stride >= 1 && dilation >= 1, "conv1d: stride \(stride) and dilation \(dilation) must be positive")
    precondition(groups >= 1 && input[1] % groups == 0 && weight[0] % groups == 0,
                 "conv1d: groups \(groups) must divide the input channels \(input[1]) (input \(input)) and output channels \(weight[0]) (weight \(weight))")
    precondition(weight[1] * groups == input[1],
                 "conv1d: input \(input) has \(input[1]) channels, weight \(weight) expects \(weight[1]) × groups \(groups) = \(weight[1] * groups)")
    if let bias { precondition(bias == [weight[0]], "conv1d: bias must be [\(weight[0])] for weight \(weight), got shape \(bias)") }
    if case .explicit(let p) = padding { precondition(p >= 0, "conv1d: padding must not be negative, got \(p)") }
    precondition(padding != .same || stride == 1, "conv1d: padding .same needs stride 1, got \(stride) (as PyTorch)")
    let pad = padding.amounts(kernel: weight[2], dilation: dilation)
    let extent = dilation * (weight[2] - 1) + 1
    precondition(weight[2] >= 1 && input[2] >= 1 && input[2] + pad.before + pad.after >= extent,
                 "conv1d: padded input length \(input[2] + pad.before + pad.after) (input \(input)) is smaller than the dilated kernel \(extent) (weight \(weight))")
}

extension Variable {
    /// 1-D convolution over an NCL batch (PyTorch's `conv1d`; a cross-correlation, no kernel flip).
    ///
    /// `y[n, o, i] = b[o] + Σ_{c, a} W[o, c, a] · x[n, g·C/G + c, i·s − p + a·d]` with `g = ⌊o / (O/G)⌋` the group
    /// of output channel `o`, and zero outside the input.
    ///
    /// Shapes: input `[N, C, L]`, weight `[O, C/G, K]`, bias `[O]`, output `[N, O, Lo]` with
    /// `Lo = ⌊(L + pBefore + pAfter − d·(K − 1) − 1) / s⌋ + 1`.
    ///
    /// Computed as ``conv2d(_:weight:bias:stride:padding:dilation:groups:)`` on height-1 views, so gradients
    /// (`∂/∂x` a transposed convolution, `∂/∂W` a correlation of `x` with `g`, `∂/∂b = Σ_{n,i} g`) and their
    /// gradients are the 2-D family's.
    ///
    /// - Precondition: the shapes agree as above, stride and dilation are positive, padding is non-negative (and
    ///   `.same` only with stride 1), and the padded input is at least the dilated kernel `d·(K − 1) + 1`;
    ///   otherwise the program stops with a message naming `conv1d` and the shapes.
    public static func conv1d(_ input: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1,
                              padding: Conv1dPadding = .valid, dilation: Int = 1, groups: Int = 1) -> Variable {
        checkConv1d(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                    dilation: dilation, groups: groups)
        let w = weight.shape
        let y = conv2d(input.unsqueezed(axis: 2), weight: weight.reshaped([w[0], w[1], 1, w[2]]), bias: bias,
                       stride: (1, stride), padding: padding.planar, dilation: (1, dilation), groups: groups)
        return y.squeezed(axis: 2)
    }
}

extension Tensor {
    /// 1-D convolution without autograd; arguments, math and shapes as
    /// ``Variable/conv1d(_:weight:bias:stride:padding:dilation:groups:)``.
    public static func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                              padding: Conv1dPadding = .valid, dilation: Int = 1, groups: Int = 1) -> Tensor {
        Variable.conv1d(Variable(input), weight: Variable(weight), bias: bias.map { Variable($0) }, stride: stride,
                        padding: padding, dilation: dilation, groups: groups).value
    }
}
