import AutoGrad

/// Context windows of a token sequence for next-token prediction: example `i` is the window of
/// `contextLength` tokens starting at `i * stride` and, as targets, the same window shifted one token on.
///
/// ```swift
/// let windows = try LanguageModelWindows(tokens: train, contextLength: 64, source: "fortunes (train)")
/// let loader = DataLoader(windows, batchSize: 12, shuffle: true, seed: 1, dropLast: true)
/// for (inputs, targets) in loader {      // TensorIndices [12, 64] each
///     trainStep(inputs, targets)         // targets[b, t] == the token after inputs[b, t]
/// }
/// ```
///
/// With `stride` 1 (the default) every start position is a window, and a ``DataLoader`` with `shuffle`
/// draws random windows from the whole text, in an order fixed by its seed and the epoch alone — random
/// context windows that are the same on every run. A larger `stride` gives fewer windows (`stride ==
/// contextLength` tiles the text without overlap, for an evaluation pass over all of it).
///
/// The dataset is immutable and safe to read from a prefetching loader's thread.
public struct LanguageModelWindows: Dataset, Sendable {
    /// The token sequence.
    public let tokens: [Int]
    /// The number of tokens in each window.
    public let contextLength: Int
    /// The distance between the starts of consecutive windows.
    public let stride: Int

    /// The windows of `tokens`; `source` names the text in an error.
    ///
    /// - Throws: ``DataError/Problem/textTooShort(count:needed:)`` when `tokens` holds fewer than
    ///   `contextLength + 1` tokens (one window and the token after it).
    /// - Precondition: `contextLength > 0`, `stride > 0`.
    public init(tokens: [Int], contextLength: Int, stride: Int = 1, source: String) throws(DataError) {
        precondition(contextLength > 0, "LanguageModelWindows: contextLength must be positive, got \(contextLength)")
        precondition(stride > 0, "LanguageModelWindows: stride must be positive, got \(stride)")
        guard tokens.count > contextLength else {
            throw DataError(path: source, .textTooShort(count: tokens.count, needed: contextLength + 1))
        }
        self.tokens = tokens
        self.contextLength = contextLength
        self.stride = stride
    }

    /// The number of windows whose targets lie within the text: those starting at `0, stride, ...` up to
    /// `tokens.count - contextLength - 1`.
    public var count: Int { (tokens.count - contextLength - 1) / stride + 1 }

    /// The window at `index`: inputs `tokens[s ..< s + T]` and targets `tokens[s + 1 ..< s + T + 1]`, with
    /// `s = index * stride` and `T = contextLength`, each of shape `[T]`.
    public func element(at index: Int) -> (TensorIndices, TensorIndices) {
        precondition(index >= 0 && index < count, "LanguageModelWindows: index \(index) out of range 0..<\(count)")
        let start = index * stride
        return (TensorIndices(Array(tokens[start..<(start + contextLength)])),
                TensorIndices(Array(tokens[(start + 1)...(start + contextLength)])))
    }
}

extension TensorIndices: Collatable {
    /// Stacks `items`, which must share a shape, along a new leading axis: `[B, ...]` (windows of
    /// ``LanguageModelWindows`` batch to `[B, T]`).
    public static func collate(_ items: [TensorIndices]) -> TensorIndices {
        precondition(!items.isEmpty, "TensorIndices.collate: empty batch")
        let shape = items[0].shape
        for item in items {
            precondition(item.shape == shape, "TensorIndices.collate: index shapes \(shape) and \(item.shape) differ within a batch")
        }
        return TensorIndices(shape: [items.count] + shape, values: items.flatMap(\.values))
    }
}
