import AutoGrad

/// The affine map of activations to unsigned bytes: `q = clamp(round(x / scale) + zeroPoint, 0, largestCode)`,
/// `x ≈ scale · (q − zeroPoint)`, over a range `[low, high]` widened to hold 0 so that zero (padding, ReLU's output)
/// is exact, as PyTorch's `MinMaxObserver` with `quint8` chooses it. The codes run to 255, or to 127 for the 7-bit
/// map a ``DynamicQuantizedLinear`` takes (PyTorch's `reduce_range`).
public struct ActivationQuantization: Sendable, Equatable {
    /// The step between neighbouring codes.
    public let scale: Float
    /// The code of 0.
    public let zeroPoint: Int32
    /// The largest code: 255, or 127 for a 7-bit map.
    public let largestCode: Int32

    /// The map for values in `[low, high]` to codes `0...largestCode`.
    ///
    /// - Precondition: `largestCode` is 255 or 127.
    public init(low: Float, high: Float, largestCode: Int32 = 255) {
        precondition(largestCode == 255 || largestCode == 127,
                     "ActivationQuantization: largest code \(largestCode); 255 (8 bits) and 127 (7 bits) are supported")
        let low = Swift.min(low, 0), high = Swift.max(high, 0)
        let scale = high > low ? (high - low) / Float(largestCode) : 1
        self.scale = scale
        self.zeroPoint = Int32(Swift.max(0, Swift.min(Float(largestCode), (-low / scale).rounded())))
        self.largestCode = largestCode
    }

    /// A stored map, kept under `name_scale` and `name_zero_point`.
    ///
    /// - Throws: ``QuantizedStateError/invalidValue(key:reason:)``, naming the entry, for a scale that is not
    ///   positive and finite or a zero point outside 0…255.
    public init(scale: Float, zeroPoint: Int, name: String) throws {
        guard scale > 0, scale.isFinite else {
            throw QuantizedStateError.invalidValue(key: name + "_scale", reason: "scale \(scale) is not positive and finite")
        }
        guard (0...255).contains(zeroPoint) else {
            throw QuantizedStateError.invalidValue(key: name + "_zero_point", reason: "zero point \(zeroPoint) is outside 0…255")
        }
        self.scale = scale
        self.zeroPoint = Int32(zeroPoint)
        largestCode = 255
    }

    /// The map for the range of `count` values at `x` (a dynamic quantisation's per-batch choice).
    init(rangeOf x: UnsafePointer<Float>, count: Int, largestCode: Int32 = 255) {
        let (low, high) = Self.extremes(x, count: count)
        self.init(low: low, high: high, largestCode: largestCode)
    }

    /// The least and greatest of `count` values at `x`, NaN skipped (its comparisons are false); `(+∞, −∞)` for
    /// none, which ``init(low:high:)`` widens to `[0, 0]`.
    static func extremes(_ x: UnsafePointer<Float>, count: Int) -> (low: Float, high: Float) {
        // Sixteen running extremes, each a chain through every sixteenth value: a single compare-and-select chain
        // through every value neither vectorises nor overlaps. A lane takes a value only when it compares (never NaN),
        // so the lanes hold no NaN and their own extremes are plain.
        var lows = SIMD16<Float>(repeating: .infinity), highs = SIMD16<Float>(repeating: -.infinity)
        let vectors = count / 16
        let raw = UnsafeRawPointer(x)
        for v in 0..<vectors {
            let values = raw.loadUnaligned(fromByteOffset: v &* 64, as: SIMD16<Float>.self)
            lows.replace(with: values, where: values .< lows)
            highs.replace(with: values, where: values .> highs)
        }
        var low = lows.min(), high = highs.max()
        for i in (vectors * 16)..<count {
            low = x[i] < low ? x[i] : low
            high = x[i] > high ? x[i] : high
        }
        return (low, high)
    }

    /// Writes the codes of `count` values at `x` to `q`.
    ///
    /// Rounding is to nearest, ties to even, done by adding 1.5·2²³: in [2²³, 2²⁴) a Float's unit is 1, so the sum is
    /// the rounded value and its low mantissa byte the code. Unlike a checked conversion to `UInt8`, the loop
    /// vectorises; the clamp keeps NaN and out-of-range values out of the byte (NaN gives 0).
    func quantize(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<UInt8>, count: Int) {
        let inverse = 1 / scale, zero = Float(zeroPoint), magic: Float = 12_582_912, top = Float(largestCode)
        for i in 0..<count {
            let v = x[i] * inverse + zero
            let clamped = v > 0 ? (v < top ? v : top) : 0
            q[i] = UInt8(truncatingIfNeeded: (clamped + magic).bitPattern)
        }
    }
}
