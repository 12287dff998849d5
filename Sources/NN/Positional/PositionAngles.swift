import AutoGrad
import Foundation

/// The angles `p · base^(−2i/dim)` of positions `p` in `positions` and frequencies `i` in `0..<(dim + 1) / 2`,
/// row-major `[positions.count, (dim + 1) / 2]`, in Double: the arguments of the sines and cosines that both
/// ``SinusoidalPositionalEncoding`` and ``RotaryEmbedding`` are made of.
///
/// The inverse frequencies are computed as `1 / base^(2i/dim)`, as PyTorch's reference code does.
func positionAngles(_ positions: Range<Int>, dim: Int, base: Double) -> [Double] {
    let frequencies = (0..<((dim + 1) / 2)).map { 1 / Foundation.pow(base, Double(2 * $0) / Double(dim)) }
    var angles: [Double] = []
    angles.reserveCapacity(positions.count * frequencies.count)
    for p in positions {
        for f in frequencies { angles.append(Double(p) * f) }
    }
    return angles
}
