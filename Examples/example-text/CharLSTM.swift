import Data
import Foundation
import NN

/// A recurrent language model (workload W8): token embedding, a stack of LSTM layers, and a linear layer from the
/// last layer's hidden state to next-token logits at every position.
///
/// State-dict keys are those of the same PyTorch module tree: `embedding.weight`, `lstm.weight_ih_l0`, … `head.weight`,
/// `head.bias`; every layer keeps PyTorch's initialisers.
final class CharLSTM: Module {
    let embedding: Embedding
    let lstm: LSTM
    let head: Linear
    let vocabularySize: Int

    init(vocabularySize: Int, width: Int = 128, layers: Int = 2, generator: RandomGenerator = .global) {
        self.vocabularySize = vocabularySize
        embedding = Embedding(numEmbeddings: vocabularySize, embeddingDim: width, generator: generator)
        lstm = LSTM(inputSize: width, hiddenSize: width, numLayers: layers, batchFirst: true, generator: generator)
        head = Linear(width, vocabularySize, generator: generator)
        super.init()
    }

    /// The sizes in a checkpoint's metadata, or nil when it is not an LSTM checkpoint.
    convenience init?(metadata: [String: String]) {
        guard metadata["model"] == "lstm", let v = metadata["vocab_size"].flatMap(Int.init), let w = metadata["hidden_size"].flatMap(Int.init),
              let l = metadata["num_layers"].flatMap(Int.init), v > 0, w > 0, l > 0 else { return nil }
        self.init(vocabularySize: v, width: w, layers: l)
    }

    /// Logits `[B, T, vocabularySize]` and the final states, from `state` (zeros when nil).
    func logits(_ tokens: TensorIndices, state: (h: Variable, c: Variable)?) -> (logits: Variable, state: (h: Variable, c: Variable)) {
        let (output, h, c) = lstm(embedding(tokens), state)
        let (b, t) = (tokens.shape[0], tokens.shape[1])
        return (head(output.reshaped([b * t, lstm.hiddenSize])).reshaped([b, t, vocabularySize]), (h, c))
    }
}

extension CharLSTM: LanguageModel {
    var metadata: [String: String] {
        ["model": "lstm", "vocab_size": "\(vocabularySize)", "hidden_size": "\(lstm.hiddenSize)", "num_layers": "\(lstm.numLayers)"]
    }

    func logits(_ tokens: TensorIndices) -> Variable { logits(tokens, state: nil).logits }

    /// Runs the prompt once, then carries the hidden and cell states from token to token: no context limit.
    func generate(after prompt: [Int], count: Int, choose: ([Double]) -> Int) -> [Int] {
        Graph.noGrad {
            var (out, state) = logits(TensorIndices(shape: [1, prompt.count], values: prompt), state: nil)
            var generated: [Int] = []
            for _ in 0..<count {
                let t = out.shape[1]
                let token = choose(out.value.sliced(axis: 1, start: t - 1, end: t).doubles)
                generated.append(token)
                (out, state) = logits(TensorIndices(shape: [1, 1], values: [token]), state: state)
            }
            return generated
        }
    }
}
