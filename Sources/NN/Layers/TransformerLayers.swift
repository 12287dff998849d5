import AutoGrad

/// The feed-forward activation of the Transformer layers (PyTorch's `activation="relu"` or `"gelu"`; GELU exact).
public enum TransformerActivation: Sendable {
    case relu, gelu

    func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .relu: return x.relu()
        case .gelu: return NN.gelu(x)
        }
    }
}

/// One Transformer encoder layer (PyTorch's `nn.TransformerEncoderLayer`): self-attention, then a position-wise
/// feed-forward network `linear2(dropout(activation(linear1(x))))`, each with a residual connection and layer norm.
///
/// Post-norm (the default): `x = norm1(x + sa(x))`, `x = norm2(x + ff(x))`; with `normFirst`:
/// `x = x + sa(norm1(x))`, `x = x + ff(norm2(x))`; `sa` and `ff` end in dropout (`dropout1`, `dropout2`).
///
/// Shapes: `[S, N, dModel]`, or `[N, S, dModel]` with `batchFirst`; the output has the input's shape.
/// State-dict keys are PyTorch's: `self_attn.*` (see ``MultiheadAttention``), `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*`.
public final class TransformerEncoderLayer: Module {
    // Stored under PyTorch's names, which reflection turns into the state-dict keys, in PyTorch's order.
    private let self_attn: MultiheadAttention
    private let linear1: Linear
    private let dropout: Dropout
    private let linear2: Linear
    private let norm1: LayerNorm
    private let norm2: LayerNorm
    private let dropout1: Dropout
    private let dropout2: Dropout

    /// The activation between `linear1` and `linear2`.
    public let activation: TransformerActivation
    /// Whether each block normalises its input (pre-norm) rather than its residual sum.
    public let normFirst: Bool

    /// The self-attention (`self_attn`).
    public var selfAttention: MultiheadAttention { self_attn }
    /// The feed-forward layers (`linear1`, `linear2`) and the norms (`norm1`, `norm2`).
    public var feedForward: (linear1: Linear, linear2: Linear) { (linear1, linear2) }
    public var norms: (norm1: LayerNorm, norm2: LayerNorm) { (norm1, norm2) }

    /// A layer of width `dModel` with `nhead` heads, with PyTorch's defaults.
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
                activation: TransformerActivation = .relu, layerNormEps: Double = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true, dtype: DType = .float32, generator: RandomGenerator = .global) {
        self_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst,
                                       dtype: dtype, generator: generator)
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype, generator: generator)
        self.dropout = Dropout(p: dropout, generator: generator)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype, generator: generator)
        norm1 = LayerNorm(normalizedShape: dModel, eps: layerNormEps, bias: bias, dtype: dtype)
        norm2 = LayerNorm(normalizedShape: dModel, eps: layerNormEps, bias: bias, dtype: dtype)
        dropout1 = Dropout(p: dropout, generator: generator)
        dropout2 = Dropout(p: dropout, generator: generator)
        self.activation = activation
        self.normFirst = normFirst
        super.init()
    }

    public override func forward(_ src: Variable) -> Variable { forward(src, srcMask: nil) }

    /// The layer applied to `src`.
    ///
    /// - Parameters:
    ///   - src: the sequence, `[N, S, dModel]` with `batchFirst`, else `[S, N, dModel]`.
    ///   - srcMask: `[S, S]` or `[N·nhead, S, S]` (PyTorch's boolean mask is `AttentionMask/blocked(_:)`).
    ///   - srcKeyPaddingMask: `[N, S]`, non-zero at positions to ignore.
    ///   - isCausal: hide later positions (combined with `srcMask` when both are given).
    public func forward(_ src: Variable, srcMask: AttentionMask? = nil, srcKeyPaddingMask: Tensor? = nil,
                        isCausal: Bool = false) -> Variable {
        let attend = { (x: Variable) in
            self.dropout1(self.self_attn.forward(query: x, key: x, value: x, keyPaddingMask: srcKeyPaddingMask, needWeights: false,
                                                 attnMask: srcMask, isCausal: isCausal).output)
        }
        return residualBlocks(src, attend)
    }

    /// The layer applied to the new positions `src` of a sequence whose earlier positions' keys and values are in
    /// `cache` (appended to it), each position attending causally to itself and everything before: cached steps
    /// give what the whole sequence gives with `isCausal`.
    public func forward(_ src: Variable, cache: KeyValueCache) -> Variable {
        residualBlocks(src) { x in self.dropout1(self.self_attn.forward(query: x, cache: cache)) }
    }

    /// The two residual blocks around `attend`, in pre- or post-norm order.
    private func residualBlocks(_ src: Variable, _ attend: (Variable) -> Variable) -> Variable {
        let feedForward = { (x: Variable) in self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x))))) }
        if normFirst {
            let x = src + attend(norm1(src))
            return x + feedForward(norm2(x))
        }
        let x = norm1(src + attend(src))
        return norm2(x + feedForward(x))
    }
}

/// One Transformer decoder layer (PyTorch's `nn.TransformerDecoderLayer`): self-attention over the target,
/// attention from the target to `memory` (the encoder's output), and the feed-forward network, each with a residual
/// connection and layer norm (`norm1`, `norm2`, `norm3`; before each block with `normFirst`, after it otherwise).
///
/// Shapes: target `[T, N, dModel]`, memory `[S, N, dModel]` (batch first with `batchFirst`); the output has the
/// target's shape. State-dict keys are PyTorch's: `self_attn.*`, `multihead_attn.*`, `linear1.*`, `linear2.*`, `norm1.*` … `norm3.*`.
public final class TransformerDecoderLayer: Module {
    private let self_attn: MultiheadAttention
    private let multihead_attn: MultiheadAttention
    private let linear1: Linear
    private let dropout: Dropout
    private let linear2: Linear
    private let norm1: LayerNorm
    private let norm2: LayerNorm
    private let norm3: LayerNorm
    private let dropout1: Dropout
    private let dropout2: Dropout
    private let dropout3: Dropout

    /// The activation between `linear1` and `linear2`.
    public let activation: TransformerActivation
    /// Whether each block normalises its input (pre-norm) rather than its residual sum.
    public let normFirst: Bool

    /// The self-attention (`self_attn`) and the attention over memory (`multihead_attn`).
    public var selfAttention: MultiheadAttention { self_attn }
    public var memoryAttention: MultiheadAttention { multihead_attn }
    /// The feed-forward block's two linear layers.
    public var feedForward: (linear1: Linear, linear2: Linear) { (linear1, linear2) }
    /// The layer norms before or after self-attention, memory attention and the feed-forward block.
    public var norms: (norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm) { (norm1, norm2, norm3) }

    /// A layer of width `dModel` with `nhead` heads, with PyTorch's defaults.
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
                activation: TransformerActivation = .relu, layerNormEps: Double = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true, dtype: DType = .float32, generator: RandomGenerator = .global) {
        self_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst,
                                       dtype: dtype, generator: generator)
        multihead_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst,
                                            dtype: dtype, generator: generator)
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype, generator: generator)
        self.dropout = Dropout(p: dropout, generator: generator)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype, generator: generator)
        norm1 = LayerNorm(normalizedShape: dModel, eps: layerNormEps, bias: bias, dtype: dtype)
        norm2 = LayerNorm(normalizedShape: dModel, eps: layerNormEps, bias: bias, dtype: dtype)
        norm3 = LayerNorm(normalizedShape: dModel, eps: layerNormEps, bias: bias, dtype: dtype)
        dropout1 = Dropout(p: dropout, generator: generator)
        dropout2 = Dropout(p: dropout, generator: generator)
        dropout3 = Dropout(p: dropout, generator: generator)
        self.activation = activation
        self.normFirst = normFirst
        super.init()
    }

    /// The layer applied to `tgt`, attending to `memory`.
    ///
    /// - Parameters:
    ///   - tgt: the target sequence, `[N, T, E]` (batch first) or `[T, N, E]`.
    ///   - memory: the encoder's output, `[N, S, E]` (batch first) or `[S, N, E]`.
    ///   - tgtMask: `[T, T]` (or per batch and head), any `AttentionMask` form.
    ///   - memoryMask: `[T, S]` (or per batch and head), any `AttentionMask` form.
    ///   - tgtKeyPaddingMask: `[N, T]`, non-zero at target positions to ignore.
    ///   - memoryKeyPaddingMask: `[N, S]`, non-zero at memory positions to ignore.
    ///   - tgtIsCausal: hide later positions in the self-attention.
    ///   - memoryIsCausal: hide later positions in the memory attention.
    public func forward(_ tgt: Variable, memory: Variable, tgtMask: AttentionMask? = nil, memoryMask: AttentionMask? = nil,
                        tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                        tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Variable {
        let attendSelf = { (x: Variable) in
            self.dropout1(self.self_attn.forward(query: x, key: x, value: x, keyPaddingMask: tgtKeyPaddingMask, needWeights: false,
                                                 attnMask: tgtMask, isCausal: tgtIsCausal).output)
        }
        let attendMemory = { (x: Variable) in
            self.dropout2(self.multihead_attn.forward(query: x, key: memory, value: memory, keyPaddingMask: memoryKeyPaddingMask,
                                                      needWeights: false, attnMask: memoryMask, isCausal: memoryIsCausal).output)
        }
        let feedForward = { (x: Variable) in self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x))))) }
        if normFirst {
            var x = tgt + attendSelf(norm1(tgt))
            x = x + attendMemory(norm2(x))
            return x + feedForward(norm3(x))
        }
        var x = norm1(tgt + attendSelf(tgt))
        x = norm2(x + attendMemory(x))
        return norm3(x + feedForward(x))
    }
}

/// What the encoder and decoder stacks share: their layers in order (state-dict keys `layers.0.…`, `layers.1.…`, …)
/// and an optional final layer norm (`norm.*`).
public class TransformerStack<Layer: Module>: Module {
    let layers: [Layer]
    let norm: LayerNorm?

    /// The final norm, if any.
    public var finalNorm: LayerNorm? { norm }

    init(_ stackName: String, layers: [Layer], norm: LayerNorm?) {
        precondition(Set(layers.map(ObjectIdentifier.init)).count == layers.count, "\(stackName): a layer appears twice in the stack")
        self.layers = layers
        self.norm = norm
        super.init()
    }

    /// `numLayers` layers made by `makeLayer` (PyTorch copies one layer instead; each is made afresh here).
    static func made(_ stackName: String, numLayers: Int, _ makeLayer: () -> Layer) -> [Layer] {
        precondition(numLayers >= 0, "\(stackName): numLayers \(numLayers) is negative")
        return (0..<numLayers).map { _ in makeLayer() }
    }

    /// `x` through the final norm, when there is one.
    func finalNormed(_ x: Variable) -> Variable { norm.map { $0(x) } ?? x }
}

/// A stack of encoder layers with an optional final layer norm (PyTorch's `nn.TransformerEncoder`); keys
/// `layers.0.…`, `layers.1.…`, …, and `norm.*`.
public final class TransformerEncoder: TransformerStack<TransformerEncoderLayer> {
    /// The layers, in order.
    public var encoderLayers: [TransformerEncoderLayer] { layers }

    /// A stack of the given layers (distinct instances), then `norm` when given.
    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) {
        super.init("TransformerEncoder", layers: layers, norm: norm)
    }

    /// `numLayers` layers made by `makeLayer` (PyTorch copies one layer instead; make each here).
    public convenience init(numLayers: Int, norm: LayerNorm? = nil, _ makeLayer: () -> TransformerEncoderLayer) {
        self.init(layers: Self.made("TransformerEncoder", numLayers: numLayers, makeLayer), norm: norm)
    }

    public override func forward(_ src: Variable) -> Variable { forward(src, mask: nil) }

    /// Every layer applied in turn with the same masks (see ``TransformerEncoderLayer/forward(_:srcMask:srcKeyPaddingMask:isCausal:)``), then the norm.
    public func forward(_ src: Variable, mask: AttentionMask? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Variable {
        let x = layers.reduce(src) { x, layer in layer.forward(x, srcMask: mask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal) }
        return finalNormed(x)
    }

    /// One empty cache per layer, for ``forward(_:caches:)``.
    public func makeCaches() -> [KeyValueCache] { layers.map { _ in KeyValueCache() } }

    /// The new positions `src` through every layer against its cache (causal; see ``TransformerEncoderLayer/forward(_:cache:)``).
    public func forward(_ src: Variable, caches: [KeyValueCache]) -> Variable {
        precondition(caches.count == layers.count, "TransformerEncoder: \(caches.count) caches for \(layers.count) layers")
        let x = zip(layers, caches).reduce(src) { x, pair in pair.0.forward(x, cache: pair.1) }
        return finalNormed(x)
    }
}

/// A stack of decoder layers with an optional final layer norm (PyTorch's `nn.TransformerDecoder`); keys
/// `layers.0.…`, … and `norm.*`.
public final class TransformerDecoder: TransformerStack<TransformerDecoderLayer> {
    /// The layers, in order.
    public var decoderLayers: [TransformerDecoderLayer] { layers }

    /// A stack of the given layers (distinct instances), then `norm` when given.
    public init(layers: [TransformerDecoderLayer], norm: LayerNorm? = nil) {
        super.init("TransformerDecoder", layers: layers, norm: norm)
    }

    /// `numLayers` layers made by `makeLayer`.
    public convenience init(numLayers: Int, norm: LayerNorm? = nil, _ makeLayer: () -> TransformerDecoderLayer) {
        self.init(layers: Self.made("TransformerDecoder", numLayers: numLayers, makeLayer), norm: norm)
    }

    /// Every layer applied in turn with the same memory and masks, then the norm.
    public func forward(_ tgt: Variable, memory: Variable, tgtMask: AttentionMask? = nil, memoryMask: AttentionMask? = nil,
                        tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                        tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Variable {
        let x = layers.reduce(tgt) { x, layer in
            layer.forward(x, memory: memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
                          memoryKeyPaddingMask: memoryKeyPaddingMask, tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
        }
        return finalNormed(x)
    }
}
