import AutoGrad

/// A learned vector per position, added to a sequence of vectors (GPT-2's and nanoGPT's `wpe`): an
/// ``Embedding`` looked up at the positions rather than at tokens.
///
/// `y[..., t, :] = x[..., t, :] + weight[offset + t, :]`. ``positions(_:)`` gives the rows alone.
///
/// Parameter (PyTorch's name and initialisation, those of `nn.Embedding(maxPositions, embeddingDim)`):
/// `weight`, shape `[maxPositions, embeddingDim]`, drawn from N(0, 1). A state dictionary of nanoGPT's
/// `transformer.wpe` loads into it directly.
///
/// Shapes: input `[*, T, embeddingDim]`, output the same; `offset + T ≤ maxPositions`.
///
/// ```swift
/// let wpe = LearnedPositionalEmbedding(maxPositions: 64, embeddingDim: 128)
/// let h = wte(tokens) + wpe.positions(0..<64)   // or: wpe(wte(tokens))
/// ```
public final class LearnedPositionalEmbedding: Module {
    /// One row per position, shape `[maxPositions, embeddingDim]`.
    @Parameter public var weight: Variable

    /// The number of positions (the longest context).
    public let maxPositions: Int
    /// The size of each vector.
    public let embeddingDim: Int

    /// `maxPositions` learned vectors of size `embeddingDim`, drawn from N(0, 1).
    ///
    /// - Precondition: `maxPositions > 0`, `embeddingDim > 0`.
    public init(maxPositions: Int, embeddingDim: Int, dtype: DType = .float32, generator: RandomGenerator = .global) {
        precondition(maxPositions > 0 && embeddingDim > 0,
                     "LearnedPositionalEmbedding: maxPositions \(maxPositions) and embeddingDim \(embeddingDim) must be positive")
        self.maxPositions = maxPositions
        self.embeddingDim = embeddingDim
        weight = Variable(Tensor.randn([maxPositions, embeddingDim], dtype: dtype, generator: generator))
        super.init()
    }

    /// The rows of `range`, shape `[range.count, embeddingDim]`; the gradient goes to those rows of ``weight``.
    ///
    /// - Precondition: `range` lies within `0..<maxPositions`.
    public func positions(_ range: Range<Int>) -> Variable {
        precondition(range.lowerBound >= 0 && range.upperBound <= maxPositions,
                     "LearnedPositionalEmbedding: positions \(range) outside 0..<\(maxPositions)")
        return embedding(TensorIndices(Array(range)), weight)
    }

    /// `x` plus the vectors of positions `offset ..< offset + T`.
    ///
    /// - Precondition: `x` is `[*, T, embeddingDim]` with `offset + T ≤ maxPositions`, `offset >= 0`.
    public func callAsFunction(_ x: Variable, offset: Int) -> Variable {
        precondition(x.rank >= 2 && x.shape.last == embeddingDim,
                     "LearnedPositionalEmbedding: input of shape \(x.shape) is not [*, T, \(embeddingDim)]")
        return x + positions(offset..<(offset + x.shape[x.rank - 2]))
    }

    /// `x` plus the vectors of positions `0 ..< T`.
    public override func forward(_ input: Variable) -> Variable { self(input, offset: 0) }

    public override var summary: String { "\(maxPositions), \(embeddingDim)" }
}
