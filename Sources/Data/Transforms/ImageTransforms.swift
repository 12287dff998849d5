/// Geometric transforms of images: tensors whose last two dimensions are height and width
/// (`[H, W]`, `[C, H, W]`, or a batch `[N, C, H, W]`, every leading slice treated alike).
///
/// ```swift
/// // LeNet-5 expects 32×32 inputs; Fashion-MNIST images are 28×28.
/// let fashion = try FashionMNIST(split: .train).transformingInputs(.pad(to: 32))   // [1, 32, 32]
/// ```
extension Transform where Input == Tensor, Output == Tensor {
    /// Adds `padding` elements of value `fill` on all four sides: `[..., H, W]` → `[..., H + 2p, W + 2p]`
    /// (torchvision's `Pad(padding, fill)`).
    ///
    /// - Precondition: `padding >= 0`; the input has rank at least 2.
    public static func pad(_ padding: Int, fill: Double = 0) -> Transform {
        precondition(padding >= 0, "Transform.pad: negative padding \(padding)")
        return Transform { $0.paddedImage(top: padding, bottom: padding, left: padding, right: padding, fill: fill) }
    }

    /// Pads the image evenly on each side to `height × width` with `fill` (torchvision's `CenterCrop` to a
    /// larger size): the rows added above are `(height - H) / 2` rounded down, the rest go below; likewise
    /// columns left and right.
    ///
    /// - Precondition: the input has rank at least 2 and is no larger than `height × width`.
    public static func pad(toHeight height: Int, width: Int, fill: Double = 0) -> Transform {
        Transform { x in
            precondition(x.rank >= 2 && x.shape[x.rank - 2] <= height && x.shape[x.rank - 1] <= width,
                         "Transform.pad(to:): image of shape \(x.shape) does not fit in \(height)×\(width)")
            let dh = height - x.shape[x.rank - 2], dw = width - x.shape[x.rank - 1]
            return x.paddedImage(top: dh / 2, bottom: dh - dh / 2, left: dw / 2, right: dw - dw / 2, fill: fill)
        }
    }

    /// Pads the image evenly on each side to `size × size` with `fill`, as ``pad(toHeight:width:fill:)``
    /// (a 28×28 image gets 2 rows or columns on each side to become 32×32).
    public static func pad(to size: Int, fill: Double = 0) -> Transform {
        pad(toHeight: size, width: size, fill: fill)
    }

    /// The `height × width` window whose top-left corner is row `top`, column `left` (torchvision's `crop`).
    ///
    /// - Precondition: the window lies inside the image.
    public static func crop(top: Int, left: Int, height: Int, width: Int) -> Transform {
        Transform { $0.croppedImage(top: top, left: left, height: height, width: width) }
    }

    /// The image mirrored left to right: column `x` becomes column `W - 1 - x` (torchvision's `hflip`).
    public static var horizontalFlip: Transform {
        Transform { $0.horizontallyFlippedImage() }
    }
}

extension Tensor {
    /// The image padded with `fill`: rows above and below, columns left and right.
    func paddedImage(top: Int, bottom: Int, left: Int, right: Int, fill: Double) -> Tensor {
        precondition(rank >= 2, "pad: image transforms need a tensor [..., H, W], got shape \(shape)")
        if top == 0 && bottom == 0 && left == 0 && right == 0 { return self }
        return padded([(before: top, after: bottom), (before: left, after: right)], value: fill)
    }

    /// The `height × width` window at row `top`, column `left` of the last two dimensions.
    func croppedImage(top: Int, left: Int, height: Int, width: Int) -> Tensor {
        precondition(rank >= 2, "crop: image transforms need a tensor [..., H, W], got shape \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        precondition(top >= 0 && left >= 0 && height >= 0 && width >= 0 && top + height <= h && left + width <= w,
                     "crop: window \(height)×\(width) at (\(top), \(left)) does not fit an image of shape \(shape)")
        if top == 0 && left == 0 && height == h && width == w { return self }
        return sliced(axis: rank - 2, start: top, end: top + height).sliced(axis: rank - 1, start: left, end: left + width)
    }

    /// The image with its last dimension reversed.
    func horizontallyFlippedImage() -> Tensor {
        precondition(rank >= 2, "horizontalFlip: image transforms need a tensor [..., H, W], got shape \(shape)")
        let w = shape[rank - 1]
        return indexSelected(axis: rank - 1, indices: Array((0..<w).reversed()))
    }
}
