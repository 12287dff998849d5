import Data
import Foundation
import NN

/// The sizes of a ``GPT``.
struct GPTConfiguration: Equatable {
    var vocabularySize: Int
    var contextLength = 64
    var layers = 4
    var heads = 4
    var width = 128

    /// The configuration as safetensors metadata, so that a checkpoint says which model it holds.
    var metadata: [String: String] {
        ["model": "gpt", "vocab_size": "\(vocabularySize)", "block_size": "\(contextLength)", "n_layer": "\(layers)",
         "n_head": "\(heads)", "n_embd": "\(width)"]
    }

    /// The configuration in a checkpoint's metadata, or nil when it is not a GPT checkpoint.
    init?(metadata: [String: String]) {
        guard metadata["model"] == "gpt", let v = metadata["vocab_size"].flatMap(Int.init),
              let t = metadata["block_size"].flatMap(Int.init), let l = metadata["n_layer"].flatMap(Int.init),
              let h = metadata["n_head"].flatMap(Int.init), let w = metadata["n_embd"].flatMap(Int.init),
              v > 0, t > 0, l > 0, h > 0, w > 0, w % h == 0 else { return nil }
        self.init(vocabularySize: v, contextLength: t, layers: l, heads: h, width: w)
    }

    init(vocabularySize: Int, contextLength: Int = 64, layers: Int = 4, heads: Int = 4, width: Int = 128) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layers = layers
        self.heads = heads
        self.width = width
    }
}

/// A small GPT in nanoGPT's shape (workload W7): token and learned position embeddings, pre-LayerNorm blocks of
/// causal self-attention and a 4× GELU MLP, a final LayerNorm, and an output head tied to the token embedding.
///
/// The blocks are PyTorch's `nn.TransformerEncoderLayer(norm_first=True, activation="gelu", batch_first=True)` in
/// an `nn.TransformerEncoder` with a final norm, so the state-dict keys are PyTorch's: `wte.weight`, `wpe.weight`,
/// `encoder.layers.N.self_attn.in_proj_weight`, … `encoder.norm.weight`; `Benchmarks/pytorch/text_models.py`
/// builds the same module tree. The embeddings start from N(0, 0.02), as nanoGPT's do (N(0, 1), PyTorch's
/// embedding default, would make the tied head's first logits far too large); the other layers keep PyTorch's
/// initialisers.
final class GPT: Module {
    let wte: Embedding
    let wpe: LearnedPositionalEmbedding
    let encoder: TransformerEncoder
    let configuration: GPTConfiguration

    init(_ c: GPTConfiguration, generator: RandomGenerator = .global) {
        configuration = c
        wte = Embedding(numEmbeddings: c.vocabularySize, embeddingDim: c.width, generator: generator)
        wpe = LearnedPositionalEmbedding(maxPositions: c.contextLength, embeddingDim: c.width, generator: generator)
        Init.normal(wte.weight, std: 0.02, generator: generator)
        Init.normal(wpe.weight, std: 0.02, generator: generator)
        encoder = TransformerEncoder(numLayers: c.layers, norm: LayerNorm(normalizedShape: c.width)) {
            TransformerEncoderLayer(dModel: c.width, nhead: c.heads, dimFeedforward: 4 * c.width, dropout: 0,
                                    activation: .gelu, batchFirst: true, normFirst: true, generator: generator)
        }
        super.init()
    }

    /// Next-token logits `[B, T, vocabularySize]` for token windows `[B, T]`, `T ≤ contextLength`.
    func logits(_ tokens: TensorIndices) -> Variable {
        head(encoder.forward(wpe(wte(tokens), offset: 0), isCausal: true))
    }

    /// Logits of the new tokens `[B, T]` that follow the `caches[0].count` tokens already in the caches.
    func logits(next tokens: TensorIndices, caches: [KeyValueCache]) -> Variable {
        head(encoder.forward(wpe(wte(tokens), offset: caches[0].count), caches: caches))
    }

    /// The tied output head: `h · wteᵀ`.
    private func head(_ h: Variable) -> Variable {
        let (b, t, c) = (h.shape[0], h.shape[1], h.shape[2])
        return Variable.matmul(h.reshaped([b * t, c]), wte.weight, transposeB: true)
            .reshaped([b, t, configuration.vocabularySize])
    }
}
