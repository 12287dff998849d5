import Data
import Foundation
import NN

/// What the training loop and the generator need from a model of text.
protocol LanguageModel: Module {
    /// The metadata saved in its checkpoint: the model kind and sizes.
    var metadata: [String: String] { get }
    /// Next-token logits `[B, T, vocabularySize]` for windows `[B, T]`.
    func logits(_ tokens: TensorIndices) -> Variable
    /// `count` new tokens after `prompt` (non-empty), each chosen by `choose` from the last position's logits.
    func generate(after prompt: [Int], count: Int, choose: ([Double]) -> Int) -> [Int]
}

extension GPT: LanguageModel {
    var metadata: [String: String] { configuration.metadata }

    /// Generation with a key/value cache per layer: the prompt is run once, then each new token alone. When the
    /// context is full (the learned positions end at `contextLength`), the caches restart from the last half of
    /// the context, so each new token still sees at least `contextLength / 2` tokens before it.
    func generate(after prompt: [Int], count: Int, choose: ([Double]) -> Int) -> [Int] {
        let context = configuration.contextLength
        return Graph.noGrad {
            var tokens = prompt
            var caches = encoder.makeCaches()
            var pending = Array(prompt.suffix(context))
            var generated: [Int] = []
            for _ in 0..<count {
                if caches[0].count + pending.count > context {
                    caches = encoder.makeCaches()
                    pending = Array(tokens.suffix(context / 2))
                }
                let logits = self.logits(next: TensorIndices(shape: [1, pending.count], values: pending), caches: caches)
                let last = logits.value.sliced(axis: 1, start: pending.count - 1, end: pending.count).doubles
                let token = choose(last)
                tokens.append(token)
                generated.append(token)
                pending = [token]
            }
            return generated
        }
    }
}
