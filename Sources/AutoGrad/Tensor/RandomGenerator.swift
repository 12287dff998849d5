import Foundation
import Synchronization

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same numbers on every machine: uniform numbers come from integer
/// arithmetic alone, normal numbers from the Box–Muller transform of those.
///
/// ```swift
/// let g = RandomGenerator(seed: 42)
/// let w = Tensor.randn([3, 4], generator: g)
/// ```
public final class RandomGenerator: RandomNumberGenerator, @unchecked Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private let lock = NSLock()

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The process-wide generator used when none is passed; reseed it with ``manualSeed(_:)``.
    public static let global = RandomGenerator(seed: 0)

    /// Restarts the global generator's sequence from `seed` (PyTorch's `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) {
        global.reseed(seed)
    }

    /// Restarts this generator's sequence from `seed`.
    public func reseed(_ seed: UInt64) {
        let fresh = RandomGenerator(seed: seed)
        lock.lock(); state = fresh.state; lock.unlock()
    }

    /// The generator's whole state, four 64-bit words (xoshiro256**): saved with a checkpoint and set again, the
    /// generator continues the same sequence from where it was.
    ///
    /// - Precondition (setting): four words, not all zero (the one state xoshiro cannot leave).
    public var stateWords: [UInt64] {
        get {
            lock.lock(); defer { lock.unlock() }
            return [state.0, state.1, state.2, state.3]
        }
        set {
            precondition(newValue.count == 4 && newValue.contains { $0 != 0 },
                         "RandomGenerator.stateWords: expected four words, not all zero, got \(newValue)")
            lock.lock(); defer { lock.unlock() }
            state = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return unlockedNext()
    }

    @inline(__always)
    private func unlockedNext() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    public func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Fills `count` uniform numbers in [low, high) (53-bit resolution, then rounded to `T`).
    func fillUniform<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, count: Int, low: Double, high: Double) {
        lock.lock(); defer { lock.unlock() }
        let span = high - low
        for i in 0..<count {
            var v = T(low + span * (Double(unlockedNext() >> 11) * 0x1.0p-53))
            if v >= T(high) { v = T(low) }   // rounding to Float can reach `high`; keep the interval half-open
            p[i] = v
        }
    }

    /// Fills `count` normal numbers with the given mean and standard deviation (Box–Muller).
    func fillNormal<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, count: Int, mean: Double, std: Double) {
        lock.lock(); defer { lock.unlock() }
        var i = 0
        while i < count {
            // 1 - u lies in (0, 1], so the logarithm is finite.
            let u1 = 1 - Double(unlockedNext() >> 11) * 0x1.0p-53
            let u2 = Double(unlockedNext() >> 11) * 0x1.0p-53
            let r = (-2 * Foundation.log(u1)).squareRoot()
            let theta = 2 * Double.pi * u2
            p[i] = T(mean + std * r * Foundation.cos(theta))
            if i + 1 < count { p[i + 1] = T(mean + std * r * Foundation.sin(theta)) }
            i += 2
        }
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        guard n > 1 else { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(nextBelow(UInt64(i + 1)))
            p.swapAt(i, j)
        }
        return p
    }

    /// A uniform integer in `0..<bound` without modulo bias.
    public func nextBelow(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "RandomGenerator.nextBelow: bound must be positive")
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return r % bound }
        }
    }
}
