/// How a 2-D convolution pads its input (PyTorch's `padding` argument of `conv2d`).
///
/// An integer literal pads both spatial dimensions by that amount: `padding: 1` is
/// `.explicit(1, 1)`.
public enum Conv2dPadding: Sendable, Equatable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// `height` zero rows above and below, `width` zero columns left and right.
    case explicit(Int, Int)
    /// No padding (PyTorch's `padding="valid"`), the same as `.explicit(0, 0)`.
    case valid
    /// The output has the input's height and width (PyTorch's `padding="same"`; stride 1 only).
    ///
    /// Each dimension is padded by `d·(k − 1)` zeros in total, `⌊d·(k − 1) / 2⌋` before and the
    /// rest after, so an even kernel pads one more at the bottom and right, as PyTorch does.
    case same

    /// `.explicit(value, value)`.
    public init(integerLiteral value: Int) { self = .explicit(value, value) }

    /// The zero rows above and below and columns left and right that this padding adds for a kernel of
    /// `kernelSize` taps spaced `dilation` apart: what ``Conv2dPadding/same`` resolves to depends on both.
    ///
    /// - Precondition: explicit amounts are not negative.
    public func amounts(kernelSize: (Int, Int), dilation: (Int, Int)) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case .explicit(let h, let w):
            precondition(h >= 0 && w >= 0, "Conv2dPadding: padding must not be negative, got (\(h), \(w))")
            return (h, h, w, w)
        case .valid:
            return (0, 0, 0, 0)
        case .same:
            let totalHeight = dilation.0 * (kernelSize.0 - 1), totalWidth = dilation.1 * (kernelSize.1 - 1)
            return (totalHeight / 2, totalHeight - totalHeight / 2, totalWidth / 2, totalWidth - totalWidth / 2)
        }
    }

    /// The output height and width of a convolution of an `inputSize` input padded this way,
    /// `⌊(H + pads − d·(k − 1) − 1) / s⌋ + 1` in each dimension (PyTorch's formula), and the padding's amounts.
    ///
    /// - Precondition: the padded input is at least as large as the dilated kernel; `op` names the caller in the
    ///   message.
    public func outputSize(inputSize: (Int, Int), kernelSize: (Int, Int), stride: (Int, Int), dilation: (Int, Int),
                           op: String) -> (height: Int, width: Int, pads: (top: Int, bottom: Int, left: Int, right: Int)) {
        let pads = amounts(kernelSize: kernelSize, dilation: dilation)
        let size = naturalOutputSize(inputSize: inputSize, pads: pads, kernelSize: kernelSize, stride: stride,
                                     dilation: dilation, op: op)
        return (size.height, size.width, pads)
    }

    /// `"(p₀, p₁)"`, `"valid"` or `"same"`.
    public var description: String {
        switch self {
        case .explicit(let h, let w): return "(\(h), \(w))"
        case .valid: return "valid"
        case .same: return "same"
        }
    }
}

/// `⌊(H + pads − d·(k − 1) − 1) / s⌋ + 1` in each dimension: the one place the convolution's output size is derived.
///
/// - Precondition: the padded input is at least as large as the dilated kernel.
func naturalOutputSize(inputSize: (Int, Int), pads: (top: Int, bottom: Int, left: Int, right: Int), kernelSize: (Int, Int),
                       stride: (Int, Int), dilation: (Int, Int), op: String) -> (height: Int, width: Int) {
    let paddedHeight = inputSize.0 + pads.top + pads.bottom, paddedWidth = inputSize.1 + pads.left + pads.right
    let extentHeight = dilation.0 * (kernelSize.0 - 1) + 1, extentWidth = dilation.1 * (kernelSize.1 - 1) + 1
    precondition(paddedHeight >= extentHeight && paddedWidth >= extentWidth,
                 "\(op): padded input \(paddedHeight)×\(paddedWidth) (input \(inputSize.0)×\(inputSize.1)) is smaller than the dilated kernel \(extentHeight)×\(extentWidth)")
    return ((paddedHeight - extentHeight) / stride.0 + 1, (paddedWidth - extentWidth) / stride.1 + 1)
}

/// The hyper-parameters of a 2-D convolution that do not depend on the tensors' sizes: stride,
/// padding on each of the four sides, dilation and groups.
///
/// The convolution ops store these; each op's forward combines them with its operands' shapes
/// into a ``Conv2dGeometry``.
struct Conv2dOptions {
    let strideHeight: Int, strideWidth: Int
    let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    let dilationHeight: Int, dilationWidth: Int
    let groups: Int

    /// Options from the public arguments, with `.same` padding resolved for this kernel size.
    init(stride: (Int, Int), padding: Conv2dPadding, dilation: (Int, Int), groups: Int,
         kernelSize: (Int, Int), op: String) {
        precondition(stride.0 >= 1 && stride.1 >= 1, "\(op): stride must be positive, got \(stride)")
        precondition(dilation.0 >= 1 && dilation.1 >= 1, "\(op): dilation must be positive, got \(dilation)")
        precondition(groups >= 1, "\(op): groups must be positive, got \(groups)")
        strideHeight = stride.0
        strideWidth = stride.1
        dilationHeight = dilation.0
        dilationWidth = dilation.1
        self.groups = groups
        if case .explicit(let h, let w) = padding {
            precondition(h >= 0 && w >= 0, "\(op): padding must not be negative, got (\(h), \(w))")
        }
        precondition(padding != .same || stride == (1, 1), "\(op): padding .same needs stride (1, 1), got \(stride) (as PyTorch)")
        (padTop, padBottom, padLeft, padRight) = padding.amounts(kernelSize: kernelSize, dilation: dilation)
    }

    /// The geometry of a convolution with these options.
    ///
    /// - Parameters:
    ///   - inputSize: the convolution's input height and width.
    ///   - kernelSize: the kernel's height and width.
    ///   - outputSize: the output's height and width, or nil for the natural size
    ///     `⌊(H + pads − d·(k − 1) − 1) / s⌋ + 1`. A smaller size crops the output at the bottom and
    ///     right (what a transposed convolution with output padding ≥ stride needs for its adjoint).
    func geometry(batch: Int, inChannels: Int, outChannels: Int, inputSize: (Int, Int), kernelSize: (Int, Int),
                  outputSize: (Int, Int)? = nil, op: String) -> Conv2dGeometry {
        precondition(inChannels >= 1 && outChannels >= 1,
                     "\(op): channel counts must be positive, got \(inChannels) in and \(outChannels) out")
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "\(op): \(inChannels) input and \(outChannels) output channels are not both divisible by groups \(groups)")
        precondition(kernelSize.0 >= 1 && kernelSize.1 >= 1, "\(op): kernel size must be positive, got \(kernelSize)")
        precondition(inputSize.0 >= 1 && inputSize.1 >= 1, "\(op): input size must be positive, got \(inputSize.0)×\(inputSize.1)")
        let (naturalHeight, naturalWidth) = naturalOutputSize(
            inputSize: inputSize, pads: (padTop, padBottom, padLeft, padRight), kernelSize: kernelSize,
            stride: (strideHeight, strideWidth), dilation: (dilationHeight, dilationWidth), op: op)
        let output = outputSize ?? (naturalHeight, naturalWidth)
        precondition(output.0 >= 1 && output.0 <= naturalHeight && output.1 >= 1 && output.1 <= naturalWidth,
                     "\(op): output size \(output.0)×\(output.1) does not fit input \(inputSize.0)×\(inputSize.1) (at most \(naturalHeight)×\(naturalWidth))")
        return Conv2dGeometry(options: self, batch: batch, inChannels: inChannels, outChannels: outChannels,
                              inputHeight: inputSize.0, inputWidth: inputSize.1,
                              kernelHeight: kernelSize.0, kernelWidth: kernelSize.1,
                              outputHeight: output.0, outputWidth: output.1)
    }
}

/// Every size of one 2-D convolution `y = conv(x, W)` in NCHW layout, as PyTorch defines it.
///
/// - input `x`: `[batch, inChannels, inputHeight, inputWidth]`
/// - weight `W`: `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`
/// - output `y`: `[batch, outChannels, outputHeight, outputWidth]`, with
///   `y[n, o, i, j] = Σ_{c, a, b} W[o, c, a, b] · x[n, g·C/G + c, i·s − p + a·d, j·s − p + b·d]`
///   where `g = o / (O/G)` is the group of `o` and out-of-range input positions read zero.
///
/// The transposed convolution and the weight gradient use the same geometry: they are the adjoints
/// of `y` with respect to `x` and `W`.
struct Conv2dGeometry {
    let options: Conv2dOptions
    let batch: Int, inChannels: Int, outChannels: Int
    let inputHeight: Int, inputWidth: Int
    let kernelHeight: Int, kernelWidth: Int
    let outputHeight: Int, outputWidth: Int
    /// The column-matrix elements a chunk may fill for cache's sake (see ``batchChunk``); tests lower it.
    ///
    /// 2¹⁶ elements (256 KiB of Float) keep a chunk's columns in the L2 cache from im2col writing them
    /// to the product reading them; LeNet-5's first layer took 21 ms per step with 16 MiB chunks, 12 with these.
    var columnBudget = 1 << 16
    /// The product width (columns, `images · Ho·Wo`) a chunk reaches even past ``columnBudget``: products
    /// a few dozen columns wide (a 7×7 output per image) run at a fraction of the GEMM kernels' speed.
    var minimumProductWidth = 512
    /// The most column-matrix elements a chunk may use in any case (4 MiB of Float).
    var columnLimit = 1 << 20

    var groups: Int { options.groups }
    var inputShape: [Int] { [batch, inChannels, inputHeight, inputWidth] }
    var weightShape: [Int] { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    var outputShape: [Int] { [batch, outChannels, outputHeight, outputWidth] }

    /// Input channels per group.
    var groupInChannels: Int { inChannels / groups }
    /// Output channels per group.
    var groupOutChannels: Int { outChannels / groups }
    /// Rows of one group's column matrix: `C/G · kH · kW`, the length of one filter.
    var patchSize: Int { groupInChannels * kernelHeight * kernelWidth }
    /// Elements of one input channel plane.
    var inputPlane: Int { inputHeight * inputWidth }
    /// Elements of one output channel plane.
    var outputPlane: Int { outputHeight * outputWidth }

    /// Whether the column matrix has input-width rows (see Im2Col.swift): stride 1 and no padding,
    /// so that each column-matrix row of an image is one contiguous run of the input.
    ///
    /// Wide rows trade the per-row copies of im2col (`C·kH·kW` rows of columns per output row) for a
    /// per-row compaction of the output and of its gradient (`O` rows each): worth it only when the
    /// column matrix has at least as many rows as there are output channels (LeNet-5's 3→6 and 6→16
    /// layers, not a 1→32 3×3 layer, where the compaction cost a tenth of the step).
    var usesWideRows: Bool {
        let o = options
        return o.strideHeight == 1 && o.strideWidth == 1 && o.padTop == 0 && o.padBottom == 0
            && o.padLeft == 0 && o.padRight == 0 && inChannels * kernelHeight * kernelWidth >= outChannels
    }

    /// Column-matrix columns per output row: the input width with wide rows, else the output width.
    var columnRowPitch: Int { usesWideRows ? inputWidth : outputWidth }

    /// Column-matrix columns per image: `Ho · columnRowPitch`.
    var columnPlane: Int { outputHeight * columnRowPitch }

    /// How many images one GEMM covers: the batch is folded into the columns of the product while
    /// the column buffer stays within ``columnBudget`` elements, or, when that leaves the product
    /// narrower than ``minimumProductWidth``, until it is that wide — within ``columnLimit`` elements,
    /// and at least one image.
    var batchChunk: Int {
        let perImage = Swift.max(1, inChannels * kernelHeight * kernelWidth * columnPlane)
        let forCache = columnBudget / perImage
        let forWidth = (minimumProductWidth + columnPlane - 1) / Swift.max(1, columnPlane)
        let images = Swift.min(Swift.max(forCache, forWidth), columnLimit / perImage)
        return Swift.max(1, Swift.min(batch, images))
    }
}
