/// A transform that draws random numbers: a function of an input and a `RandomGenerator`
/// (torchvision's random transforms, with the randomness passed in rather than global).
///
/// Passing the generator keeps augmentation reproducible: the same input and a generator in the same
/// state give the same output. Compose random transforms with `then(_:)`
/// (each step draws from the same generator, in order) and with plain ``Transform``s. Apply one to a
/// data set with ``Dataset/augmentingInputs(_:seed:)``, which gives every example fresh, seeded
/// randomness each epoch, or turn it into a plain ``Transform`` with ``drawing(from:)``.
///
/// ```swift
/// let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
/// let image = augment(x, using: RandomGenerator(seed: 1))
/// ```
public struct RandomTransform<Input, Output> {
    /// The function applied; it draws what it needs from the generator.
    public let apply: (Input, RandomGenerator) -> Output

    /// A random transform that applies `apply`.
    public init(_ apply: @escaping (Input, RandomGenerator) -> Output) { self.apply = apply }

    /// `transform`, drawing nothing.
    public init(_ transform: Transform<Input, Output>) {
        let f = transform.apply
        self.init { x, _ in f(x) }
    }

    /// `apply(input, generator)`.
    public func callAsFunction(_ input: Input, using generator: RandomGenerator) -> Output {
        apply(input, generator)
    }

    /// This transform followed by `next`; both draw from the same generator, this one first.
    public func then<Next>(_ next: RandomTransform<Output, Next>) -> RandomTransform<Input, Next> {
        let first = apply
        return RandomTransform<Input, Next> { x, g in next.apply(first(x, g), g) }
    }

    /// This transform followed by the deterministic `next`.
    public func then<Next>(_ next: Transform<Output, Next>) -> RandomTransform<Input, Next> {
        then(RandomTransform<Output, Next>(next))
    }

    /// A plain transform that draws from `generator` on every call.
    ///
    /// Each call advances the generator, so the outputs depend on the order of calls: a run is
    /// reproducible when the calls come in a fixed order. A ``DataLoader`` makes its examples in order,
    /// on one thread at a time, also with prefetch; but an epoch abandoned early with prefetch leaves an
    /// unpredictable number of examples made ahead, and reading the data set elsewhere meanwhile
    /// interleaves draws. `RandomGenerator` is locked, so concurrent calls are safe, just not
    /// reproducible. ``Dataset/augmentingInputs(_:seed:)`` has none of these limits.
    public func drawing(from generator: RandomGenerator) -> Transform<Input, Output> {
        let f = apply
        return Transform { f($0, generator) }
    }
}

extension RandomTransform where Input == Output {
    /// The transforms applied in order, first to last, drawing from one generator; the identity when empty.
    public init(composing transforms: [RandomTransform]) {
        let steps = transforms.map(\.apply)
        self.init { x, g in steps.reduce(x) { value, step in step(value, g) } }
    }
}

extension Transform {
    /// This transform followed by the random `next`.
    public func then<Next>(_ next: RandomTransform<Output, Next>) -> RandomTransform<Input, Next> {
        RandomTransform<Input, Output>(self).then(next)
    }
}

extension RandomTransform where Input == Tensor, Output == Tensor {
    /// Pads the image by `padding` elements of `fill` on every side, then crops a `height × width` window
    /// at a uniformly random position (torchvision's `RandomCrop(size, padding, fill=fill)`).
    ///
    /// For an input `[..., H, W]` the window's top row is drawn first, uniformly from
    /// `0...(H + 2 padding - height)`, then its left column from `0...(W + 2 padding - width)`; the output
    /// is `[..., height, width]`. `RandomCrop(32, padding=4)` on CIFAR-10 is `randomCrop(size: 32, padding: 4)`.
    ///
    /// - Precondition: `padding >= 0`; the padded image is at least `height × width`.
    public static func randomCrop(height: Int, width: Int, padding: Int = 0, fill: Double = 0) -> RandomTransform {
        precondition(padding >= 0 && height > 0 && width > 0,
                     "RandomTransform.randomCrop: invalid size \(height)×\(width) or padding \(padding)")
        return RandomTransform { x, g in
            let padded = x.paddedImage(top: padding, bottom: padding, left: padding, right: padding, fill: fill)
            let h = padded.shape[padded.rank - 2], w = padded.shape[padded.rank - 1]
            precondition(h >= height && w >= width,
                         "RandomTransform.randomCrop: \(height)×\(width) is larger than the padded image \(h)×\(w) (input \(x.shape))")
            let top = Int(g.nextBelow(UInt64(h - height + 1)))
            let left = Int(g.nextBelow(UInt64(w - width + 1)))
            return padded.croppedImage(top: top, left: left, height: height, width: width)
        }
    }

    /// ``randomCrop(height:width:padding:fill:)`` to a `size × size` window.
    public static func randomCrop(size: Int, padding: Int = 0, fill: Double = 0) -> RandomTransform {
        randomCrop(height: size, width: size, padding: padding, fill: fill)
    }

    /// Mirrors the image left to right with probability `probability`, else returns it unchanged
    /// (torchvision's `RandomHorizontalFlip(p)`): one uniform number `u` in [0, 1) is drawn per call and
    /// the image is flipped when `u < probability`.
    ///
    /// - Precondition: `probability` lies in [0, 1].
    public static func randomHorizontalFlip(probability: Double = 0.5) -> RandomTransform {
        precondition(probability >= 0 && probability <= 1,
                     "RandomTransform.randomHorizontalFlip: probability \(probability) outside [0, 1]")
        return RandomTransform { x, g in
            g.nextUniform() < probability ? x.horizontallyFlippedImage() : x
        }
    }
}
