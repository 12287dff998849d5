import AutoGrad

/// The projected keys and values of the positions one attention layer has already seen, so that generation can
/// run the layer on each new position alone instead of on the whole sequence again.
///
/// Keys and values are kept split into heads, `[N, H, S, E/H]`, and grow along `S` with every cached forward
/// (``MultiheadAttention/forward(query:cache:)``, ``TransformerEncoderLayer/forward(_:cache:)``). One cache serves
/// one layer and one sequence batch; ``reset()`` starts a new sequence.
///
/// ```swift
/// let caches = encoder.makeCaches()
/// var y = encoder.forward(prompt, caches: caches)        // the prompt, causally
/// y = encoder.forward(nextToken, caches: caches)         // one more position, against the cached ones
/// ```
public final class KeyValueCache {
    /// The cached keys and values, `[N, H, S, E/H]`; nil before the first step.
    public private(set) var keys: Variable?
    public private(set) var values: Variable?

    /// The number of positions cached, `S`.
    public var count: Int { keys?.shape[2] ?? 0 }

    /// An empty cache.
    public init() {}

    /// Forgets every cached position.
    public func reset() {
        keys = nil
        values = nil
    }

    /// Appends the keys and values of new positions (`[N, H, T, E/H]` each).
    func append(keys newKeys: Variable, values newValues: Variable) {
        if let keys, let values {
            precondition(keys.shape[0] == newKeys.shape[0] && keys.shape[1] == newKeys.shape[1] && keys.shape[3] == newKeys.shape[3],
                         "KeyValueCache: new keys \(newKeys.shape) do not match the cached \(keys.shape)")
            self.keys = Variable.concatenate([keys, newKeys], axis: 2)
            self.values = Variable.concatenate([values, newValues], axis: 2)
        } else {
            keys = newKeys
            values = newValues
        }
    }
}

extension MultiheadAttention {
    /// Causal self-attention of the new positions `x` (`[T, N, E]`, or `[N, T, E]` with `batchFirst`) against
    /// themselves and every position in `cache`, to which their keys and values are appended. New position `t`
    /// sits at `cache.count + t` and attends to positions `0 … cache.count + t`, so running a sequence in pieces
    /// gives the same outputs as one causal forward over all of it.
    public func forward(query x: Variable, cache: KeyValueCache) -> Variable {
        let (q, k, v) = projectedHeads(query: x, key: x, value: x)
        let offset = cache.count
        cache.append(keys: k, values: v)
        let (l, s) = (q.shape[2], cache.count)
        // A single new position may see every cached one; from an empty cache the rule is the ordinary causal one.
        let mask: AttentionMask? = l == 1 || offset == 0 ? nil : .additive(causalMask(l, s, offset: offset, dtype: q.dtype))
        let heads = Variable.scaledDotProductAttention(query: q, key: cache.keys!, value: cache.values!, attentionMask: mask,
                                                       isCausal: offset == 0 && l > 1, dropoutProbability: isTraining ? dropout : 0,
                                                       generator: generator)
        return merged(heads)
    }
}
