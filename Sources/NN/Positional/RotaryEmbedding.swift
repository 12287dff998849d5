import AutoGrad
import Foundation

/// Rotary position embedding (RoPE; Su et al., 2021) applied to queries or keys, in the half-split convention of
/// GPT-NeoX and of Hugging Face's Llama (`rotate_half`).
///
/// For a vector `x` of even size `D` at position `p`, with `θ_i = base^(−2i/D)` and `i < D/2`, the pairs
/// `(x_i, x_{i+D/2})` — first half with second half, not adjacent elements — turn by the angle `p·θ_i`:
///
/// ```
/// y_i       = x_i · cos(pθ_i) − x_{i+D/2} · sin(pθ_i)
/// y_{i+D/2} = x_{i+D/2} · cos(pθ_i) + x_i · sin(pθ_i)
/// ```
///
/// i.e. `y = x·cos + rotate_half(x)·sin` with `rotate_half(x) = [−x₂, x₁]` and the angles repeated over both
/// halves. (The original paper and Meta's Llama code pair adjacent elements `(x_{2i}, x_{2i+1})` instead; the two
/// differ by a fixed permutation of the projection weights, which is why Hugging Face's conversion permutes them.)
/// A query at position `m` and a key at `n` then have a dot product that depends on `m − n` only.
///
/// Built from differentiable ops, so gradients of every order work; the gradient is the inverse rotation.
///
/// Shapes: `x` `[*, T, D]` with positions along the second-to-last axis — `[B, heads, T, headDim]` for attention —
/// output the same. `offset` is the position of the first row: the number of tokens already in a key/value
/// cache during generation.
///
/// - Precondition: `x` has rank at least 2 and an even last dimension; `offset >= 0`; `base > 0`.
public func rotaryEmbedding(_ x: Variable, offset: Int = 0, base: Double = 10_000) -> Variable {
    precondition(x.rank >= 2 && x.shape[x.rank - 1] % 2 == 0 && x.shape[x.rank - 1] > 0,
                 "rotaryEmbedding: input of shape \(x.shape) is not [*, T, D] with D even")
    precondition(offset >= 0 && base > 0, "rotaryEmbedding: offset \(offset) must be non-negative and base \(base) positive")
    let axis = x.rank - 1, d = x.shape[axis], half = d / 2, length = x.shape[axis - 1]
    let angles = positionAngles(offset..<(offset + length), dim: d, base: base)
    let cos = Variable.constant(Tensor(shape: [length, half], scalars: angles.map { Foundation.cos($0) }, dtype: x.dtype))
    let sin = Variable.constant(Tensor(shape: [length, half], scalars: angles.map { Foundation.sin($0) }, dtype: x.dtype))
    let x1 = x.sliced(axis: axis, start: 0, end: half), x2 = x.sliced(axis: axis, start: half, end: d)
    return Variable.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis: axis)
}

/// Rotary position embedding as a module (Hugging Face's `LlamaRotaryEmbedding` with `apply_rotary_pos_emb`):
/// applies ``rotaryEmbedding(_:offset:base:)`` — the half-split convention, documented there — to queries and
/// keys of shape `[B, heads, T, headDim]`.
///
/// It has no parameters and nothing in the state dictionary (the inverse frequencies are a function of `headDim`
/// and `base`).
///
/// ```swift
/// let rope = RotaryEmbedding(headDim: 32)
/// let (q, k) = (rope(queries, offset: cache.count), rope(keys, offset: cache.count))
/// ```
public final class RotaryEmbedding: Module {
    /// The size of each head's vectors (even).
    public let headDim: Int
    /// The wavelength base (10,000 in RoFormer and Llama 2).
    public let base: Double

    /// Rotary embedding of vectors of size `headDim`.
    ///
    /// - Precondition: `headDim` is positive and even; `base > 0`.
    public init(headDim: Int, base: Double = 10_000) {
        precondition(headDim > 0 && headDim % 2 == 0 && base > 0,
                     "RotaryEmbedding: headDim \(headDim) must be positive and even, base \(base) positive")
        self.headDim = headDim
        self.base = base
        super.init()
    }

    /// `x` `[*, T, headDim]` with row `t` rotated for position `offset + t`.
    public func callAsFunction(_ x: Variable, offset: Int) -> Variable {
        precondition(x.rank >= 2 && x.shape.last == headDim,
                     "RotaryEmbedding: input of shape \(x.shape) is not [*, T, \(headDim)]")
        return rotaryEmbedding(x, offset: offset, base: base)
    }

    /// `x` rotated for positions `0 ..< T`.
    public override func forward(_ input: Variable) -> Variable { self(input, offset: 0) }

    public override var summary: String { "\(headDim)" + (base == 10_000 ? "" : ", base: \(base)") }
}
