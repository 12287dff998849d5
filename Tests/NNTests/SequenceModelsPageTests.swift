import AutoGrad
import Testing
@testable import NN

// The two models of the "Sequence models" DocC page, as written there (scripts/sync-doc-snippets.py copies them, and
// DocSnippetSyncTests fails when they differ): they build, run and give the documented shapes.

// snippet: Sources/NN/NN.docc/SequenceModels.md#1
final class TextClassifier: Module {
    let embedding = Embedding(numEmbeddings: 1_000, embeddingDim: 64)
    let position = LearnedPositionalEmbedding(maxPositions: 128, embeddingDim: 64)
    let encoder = TransformerEncoder(numLayers: 2, norm: LayerNorm(normalizedShape: 64)) {
        TransformerEncoderLayer(dModel: 64, nhead: 4, dimFeedforward: 256, dropout: 0.1,
                                activation: .gelu, batchFirst: true, normFirst: true)
    }
    let head = Linear(64, 5)

    /// Class logits `[B, 5]` for token ids `[B, T]`; `padding` `[B, T]` is 1 where a position is padding.
    func callAsFunction(_ tokens: IntTensor, padding: Tensor? = nil) -> Variable {
        let x = position(embedding(tokens), offset: 0)
        let h = encoder.forward(x, srcKeyPaddingMask: padding)
        return head(h.mean(axes: [1]))
    }
}
// end snippet

// snippet: Sources/NN/NN.docc/SequenceModels.md#2
final class Tagger: Module {
    let embedding = Embedding(numEmbeddings: 1_000, embeddingDim: 64)
    let lstm = LSTM(inputSize: 64, hiddenSize: 128, numLayers: 2, batchFirst: true, dropout: 0.1, bidirectional: true)
    let head = Linear(2 * 128, 17)

    /// Tag logits `[B, T, 17]` for token ids `[B, T]`.
    func callAsFunction(_ tokens: IntTensor) -> Variable {
        head(lstm(embedding(tokens)))
    }
}
// end snippet

@Suite struct SequenceModelsPageTests {
    @Test func transformerClassifierAndLSTMTaggerRun() {
        let tokens = IntTensor(shape: [2, 7], values: (0..<14).map { $0 * 37 % 1_000 })
        let classifier = TextClassifier()
        classifier.eval()
        var padding = [Double](repeating: 0, count: 14)
        padding[6] = 1
        #expect(classifier(tokens, padding: Tensor(shape: [2, 7], scalars: padding)).shape == [2, 5])
        let tagger = Tagger()
        #expect(tagger(tokens).shape == [2, 7, 17])
    }
}
