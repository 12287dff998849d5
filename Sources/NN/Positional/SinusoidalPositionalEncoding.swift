import AutoGrad
import Foundation

/// The fixed sinusoidal position encodings of "Attention Is All You Need" (Vaswani et al., 2017, §3.5), shape
/// `[positions.count, embeddingDim]`.
///
/// `PE[p, 2i] = sin(p / base^(2i/embeddingDim))`, `PE[p, 2i+1] = cos(p / base^(2i/embeddingDim))`, with `base` 10,000 in the paper.
/// Computed in Double and rounded once to `dtype`. An odd `embeddingDim` ends with a sine column.
///
/// - Precondition: `embeddingDim > 0`, `positions.lowerBound >= 0`, `base > 0`.
public func sinusoidalPositionalEncoding(positions: Range<Int>, embeddingDim dim: Int, base: Double = 10_000,
                                         dtype: DType = .float32) -> Tensor {
    precondition(dim > 0 && positions.lowerBound >= 0 && base > 0,
                 "sinusoidalPositionalEncoding: needs embeddingDim > 0, positions from 0 and base > 0; "
                 + "got embeddingDim \(dim), positions \(positions), base \(base)")
    let angles = positionAngles(positions, dim: dim, base: base)
    let half = (dim + 1) / 2
    var values = [Double](repeating: 0, count: positions.count * dim)
    for row in 0..<positions.count {
        for j in 0..<dim {
            let angle = angles[row * half + j / 2]
            values[row * dim + j] = j % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle)
        }
    }
    return Tensor(shape: [positions.count, dim], scalars: values, dtype: dtype)
}

/// Adds fixed sinusoidal position encodings to a sequence of vectors (the Transformer's original position
/// signal; see ``sinusoidalPositionalEncoding(positions:embeddingDim:base:dtype:)`` for the formula).
///
/// `y[..., t, :] = x[..., t, :] + PE[offset + t, :]`. The encodings are a fixed function of the position — not a
/// parameter, and not in the state dictionary (PyTorch's tutorial `PositionalEncoding` keeps them as a buffer of
/// `max_len` rows; here they are computed for the positions asked for, so there is no maximum length). Unlike
/// the tutorial's module there is no dropout inside: add a ``Dropout`` after it where wanted.
///
/// Shapes: input `[*, T, embeddingDim]` (positions along the second-to-last axis, so `[B, T, d]` and `[T, d]`
/// both work), output the same. The gradient passes to `x` unchanged.
///
/// ```swift
/// let positions = SinusoidalPositionalEncoding(embeddingDim: 128)
/// let h = positions(tokenEmbedding(tokens))            // [B, T, 128]
/// let next = positions(tokenEmbedding(last), offset: T) // cached decoding: position T onwards
/// ```
public final class SinusoidalPositionalEncoding: Module {
    /// The size of each vector.
    public let embeddingDim: Int
    /// The wavelength base (10,000 in the paper).
    public let base: Double

    /// Encodings for vectors of size `embeddingDim`.
    ///
    /// - Precondition: `embeddingDim > 0`, `base > 0`.
    public init(embeddingDim: Int, base: Double = 10_000) {
        precondition(embeddingDim > 0 && base > 0,
                     "SinusoidalPositionalEncoding: embeddingDim \(embeddingDim) and base \(base) must be positive")
        self.embeddingDim = embeddingDim
        self.base = base
        super.init()
    }

    /// `x` plus the encodings of positions `offset ..< offset + T`.
    ///
    /// - Precondition: `x` has rank at least 2 and last dimension `embeddingDim`; `offset >= 0`.
    public func callAsFunction(_ x: Variable, offset: Int) -> Variable {
        precondition(x.rank >= 2 && x.shape.last == embeddingDim,
                     "SinusoidalPositionalEncoding: input of shape \(x.shape) is not [*, T, \(embeddingDim)]")
        precondition(offset >= 0, "SinusoidalPositionalEncoding: offset \(offset) must be non-negative")
        let length = x.shape[x.rank - 2]
        return x + Variable.constant(sinusoidalPositionalEncoding(positions: offset..<(offset + length), embeddingDim: embeddingDim,
                                                                  base: base, dtype: x.dtype))
    }

    /// `x` plus the encodings of positions `0 ..< T`.
    public override func forward(_ input: Variable) -> Variable { self(input, offset: 0) }

    public override var summary: String { "\(embeddingDim)" + (base == 10_000 ? "" : ", base: \(base)") }
}
