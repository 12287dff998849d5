import AutoGrad

/// Rows of `weight` looked up at `indices` (PyTorch's `F.embedding`): `y[p] = weight[indices[p]]`.
///
/// Token indices are `TensorIndices` (integer values with a shape), the codebase's integer index type, as
/// `Variable.gathered(axis:indices:)` takes. Shapes: `weight` `[numEmbeddings, embeddingDim]`, `indices` any
/// shape `[*]`, output `[*, embeddingDim]`.
///
/// Gradient: `∂/∂weight` is `g`'s rows scatter-added at their indices — rows looked up several times get the
/// sum of their gradients — except that the row `paddingIndex` (when given) gets no gradient at all, as in
/// PyTorch. The gradient is differentiable again (second order works).
///
/// - Precondition: `weight` has rank 2; every index is in `0..<numEmbeddings`; `paddingIndex`, when given, is in
///   `-numEmbeddings..<numEmbeddings` (a negative one counts from the end).
public func embedding(_ indices: TensorIndices, _ weight: Variable, paddingIndex: Int? = nil) -> Variable {
    precondition(weight.rank == 2, "embedding: weight must have shape [numEmbeddings, embeddingDim], got \(weight.shape)")
    let n = weight.shape[0]
    let padding = paddingIndex.map { normalizedPaddingIndex($0, numEmbeddings: n, op: "embedding") }
    for j in indices.values {
        precondition(j >= 0 && j < n, "embedding: index \(j) out of range for \(n) embeddings (weight \(weight.shape))")
    }
    return EmbeddingLookup(indices: indices, paddingIndex: padding)(weight)
}

/// `paddingIndex` in `0..<n` (a negative one counts from the end, as PyTorch's `padding_idx`).
private func normalizedPaddingIndex(_ index: Int, numEmbeddings n: Int, op: String) -> Int {
    precondition(index >= -n && index < n, "\(op): paddingIndex \(index) out of range for \(n) embeddings")
    return index < 0 ? index + n : index
}

/// `weight` rows at `indices`, output shape `indices.shape + [embeddingDim]`.
/// ∂/∂weight = `g`'s rows index-added at their indices, skipping the positions whose index is `paddingIndex`.
struct EmbeddingLookup: Op {
    var name: String { "Embedding" }
    let indices: TensorIndices
    let paddingIndex: Int?

    func forward(_ x: [Tensor]) -> Tensor {
        x[0].indexSelected(axis: 0, indices: indices.values).reshaped(indices.shape + [x[0].shape[1]])
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let weightShape = inputs[0].shape
        let rows = g.reshaped([indices.values.count, weightShape[1]])
        guard let paddingIndex, indices.values.contains(paddingIndex) else {
            return [rows.indexAdded(into: weightShape, axis: 0, indices: indices.values)]
        }
        // Leave the padding positions out (not multiplied by 0, which would turn an infinite gradient into NaN).
        let kept = indices.values.indices.filter { indices.values[$0] != paddingIndex }
        return [rows.indexSelected(axis: 0, indices: kept)
            .indexAdded(into: weightShape, axis: 0, indices: kept.map { indices.values[$0] })]
    }
}

/// A lookup table of `numEmbeddings` vectors of size `embeddingDim` (PyTorch's `nn.Embedding`): token `i` maps to
/// row `i` of ``weight``.
///
/// Input: token indices as `TensorIndices` of any shape `[*]` (``callAsFunction(_:)``), or a `Variable` whose
/// values are whole numbers (``forward(_:)``, so the layer also works inside ``Sequential``); output
/// `[*, embeddingDim]`. See ``embedding(_:_:paddingIndex:)`` for the gradient: repeated tokens sum their gradients,
/// the padding row gets none.
///
/// Parameter (PyTorch's name and initialisation): `weight`, shape `[numEmbeddings, embeddingDim]`, drawn from
/// N(0, 1), with the row `paddingIndex` set to zeros. PyTorch's `max_norm`, `scale_grad_by_freq` and `sparse`
/// options are not provided.
///
/// ```swift
/// let embed = Embedding(numEmbeddings: 10_000, embeddingDim: 256, paddingIndex: 0)
/// let tokens = TensorIndices(shape: [2, 4], values: [5, 17, 3, 0, 42, 42, 0, 0])
/// let vectors = embed(tokens)   // [2, 4, 256]; the 0 tokens read the zero row
/// ```
public final class Embedding: Module {
    /// The table, shape `[numEmbeddings, embeddingDim]`.
    @Parameter public var weight: Variable

    /// The number of rows (the vocabulary size).
    public let numEmbeddings: Int
    /// The size of each vector.
    public let embeddingDim: Int
    /// The row that is zero at first and never gets a gradient, in `0..<numEmbeddings`; nil for none.
    public let paddingIndex: Int?

    /// A table of `numEmbeddings` vectors of size `embeddingDim`, drawn from N(0, 1), with an optional padding row
    /// (a negative `paddingIndex` counts from the end, as in PyTorch).
    ///
    /// - Precondition: `numEmbeddings` and `embeddingDim` are non-negative; `paddingIndex` is in
    ///   `-numEmbeddings..<numEmbeddings`.
    public init(numEmbeddings: Int, embeddingDim: Int, paddingIndex: Int? = nil, dtype: DType = .float32,
                generator: RandomGenerator = .global) {
        precondition(numEmbeddings >= 0 && embeddingDim >= 0,
                     "Embedding: negative size numEmbeddings \(numEmbeddings), embeddingDim \(embeddingDim)")
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        self.paddingIndex = paddingIndex.map { normalizedPaddingIndex($0, numEmbeddings: numEmbeddings, op: "Embedding") }
        var table = Tensor.randn([numEmbeddings, embeddingDim], dtype: dtype, generator: generator)
        if let row = self.paddingIndex, embeddingDim > 0 {
            switch dtype {
            case .float32: table.withUnsafeMutableBufferPointer(as: Float.self) { p in for k in 0..<embeddingDim { p[row * embeddingDim + k] = 0 } }
            case .float64: table.withUnsafeMutableBufferPointer(as: Double.self) { p in for k in 0..<embeddingDim { p[row * embeddingDim + k] = 0 } }
            }
        }
        weight = Variable(table)
        super.init()
    }

    /// The vectors of `indices`, shape `indices.shape + [embeddingDim]`.
    ///
    /// - Precondition: every index is in `0..<numEmbeddings`.
    public func callAsFunction(_ indices: TensorIndices) -> Variable {
        precondition(weight.shape == [numEmbeddings, embeddingDim],
                     "Embedding: weight of shape \(weight.shape) differs from [\(numEmbeddings), \(embeddingDim)]")
        return embedding(indices, weight, paddingIndex: paddingIndex)
    }

    /// The vectors of the token indices held, as whole numbers, in `input`'s values (no gradient flows to `input`);
    /// shape `input.shape + [embeddingDim]`.
    ///
    /// - Precondition: every value of `input` is a whole number in `0..<numEmbeddings`.
    public override func forward(_ input: Variable) -> Variable {
        let values = input.value.doubles.map { v -> Int in
            precondition(v.rounded() == v && v >= 0 && v < Double(numEmbeddings),
                         "Embedding: value \(v) of the input (shape \(input.shape)) is not a token index in 0..<\(numEmbeddings)")
            return Int(v)
        }
        return self(TensorIndices(shape: input.shape, values: values))
    }

    public override var summary: String {
        "\(numEmbeddings), \(embeddingDim)" + (paddingIndex.map { ", paddingIndex: \($0)" } ?? "")
    }
}
