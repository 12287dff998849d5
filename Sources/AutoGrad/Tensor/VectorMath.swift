// Elementary functions that loops can vectorise.
//
// `Float.exp` and friends call libm once per element: the call cannot be vectorised, so a loop over a
// tensor runs one element at a time. The functions here are written only with arithmetic, comparisons
// that become selects, and integer operations on the bit pattern, so after specialisation a loop such as
// `for i in 0..<n { y[i] = T.vectorizableExp(x[i]) }` compiles to packed SSE/AVX code (`mulps`, `addps`,
// `paddd`, …). There is one implementation of each function, generic over `VectorMathScalar`; `Float` and
// `Double` differ only in the constants they supply.
//
// Accuracy (measured against glibc over dense sweeps in VectorMathTests, round to nearest):
// `exp` and `log` stay within 1 ulp, `tanh` within 2 ulp and `sigmoid` within 2.5 ulp. Subnormal inputs and results are
// computed, not flushed (unless the CPU itself runs in flush-to-zero mode).

/// A floating-point type the vectorisable elementary functions (``vectorizableExp(_:)``,
/// ``vectorizableLog(_:)``, ``vectorizableTanh(_:)``, ``vectorizableSigmoid(_:)``) are defined for:
/// `Float` and `Double`. Its requirements are the per-type constants and bit access those functions use.
public protocol VectorMathScalar: BinaryFloatingPoint {
    /// The signed integer type as wide as `Self` (`Int32` for `Float`, `Int64` for `Double`).
    associatedtype VectorMathBits: FixedWidthInteger & SignedInteger

    /// The IEEE bit pattern of `x` as a signed integer.
    static func vectorMathBits(_ x: Self) -> VectorMathBits
    /// The value whose IEEE bit pattern is `bits`.
    static func vectorMathValue(bits: VectorMathBits) -> Self

    /// The leading bits of ln 2, with enough trailing zero bits that `k · vectorMathLn2High` is exact for
    /// every exponent `k` of the type (Cody–Waite range reduction).
    static var vectorMathLn2High: Self { get }
    /// `ln 2 − vectorMathLn2High`, rounded.
    static var vectorMathLn2Low: Self { get }
    /// `1 / ln 2`, rounded.
    static var vectorMathLog2E: Self { get }
    /// An argument below which `eˣ` rounds to +0 (inputs are clamped to it).
    static var vectorMathExpLowerLimit: Self { get }
    /// An argument above which `eˣ` overflows to +∞ (inputs are clamped to it).
    static var vectorMathExpUpperLimit: Self { get }
    /// The degree of the Taylor polynomial for `eʳ` on `|r| ≤ ln 2 / 2`: the first neglected term
    /// is below a tenth of an ulp.
    static var vectorMathExpDegree: Int { get }
    /// How many terms `2zᵏ/(2k+1)`, `k ≥ 1`, of the series `2·atanh(s)/s − 2` in `z = s²` the logarithm
    /// keeps on `|s| ≤ 0.1716`: the first neglected term is below a tenth of an ulp.
    static var vectorMathLogTerms: Int { get }
    /// The degree of the polynomial `P` with `tanh x ≈ x + x³·P(x²)` on `|x| < 0.55`.
    static var vectorMathTanhDegree: Int { get }
    /// The coefficient of `zʲ` in `P` (a Chebyshev fit to `(tanh(√z)/√z − 1)/z` on `[0, 0.55²]`, made
    /// with mpmath's `chebyfit`; its error is below a tenth of an ulp of `tanh`).
    static func vectorMathTanhCoefficient(_ j: Int) -> Self
}

extension Float: VectorMathScalar {
    public typealias VectorMathBits = Int32
    @inlinable @inline(__always)
    public static func vectorMathBits(_ x: Float) -> Int32 { Int32(bitPattern: x.bitPattern) }
    @inlinable @inline(__always)
    public static func vectorMathValue(bits: Int32) -> Float { Float(bitPattern: UInt32(bitPattern: bits)) }
    /// 16 significant bits: exact times any `|k| ≤ 255`.
    @inlinable public static var vectorMathLn2High: Float { 0x1.62e4p-1 }
    @inlinable public static var vectorMathLn2Low: Float { 0x1.7f7d1cp-20 }
    @inlinable public static var vectorMathLog2E: Float { 0x1.715476p+0 }
    /// e⁻¹¹⁰ is far below half the least subnormal (e^−103.97).
    @inlinable public static var vectorMathExpLowerLimit: Float { -110 }
    /// e⁸⁹ is above `Float.greatestFiniteMagnitude` (e^88.72).
    @inlinable public static var vectorMathExpUpperLimit: Float { 89 }
    /// (ln2/2)⁸ / 8! ≈ 5·10⁻⁹ relative, 0.04 ulp.
    @inlinable public static var vectorMathExpDegree: Int { 7 }
    /// Next term 2z⁵/11 · s relative to 2s: 2·10⁻⁹, 0.03 ulp.
    @inlinable public static var vectorMathLogTerms: Int { 4 }
    @inlinable public static var vectorMathTanhDegree: Int { 4 }
    @inlinable @inline(__always)
    public static func vectorMathTanhCoefficient(_ j: Int) -> Float {
        switch j {
        case 0: return -0x1.555554p-2
        case 1: return 0x1.110feap-3
        case 2: return -0x1.b9a044p-5
        case 3: return 0x1.5d220ep-6
        default: return -0x1.b13538p-8
        }
    }
}

extension Double: VectorMathScalar {
    public typealias VectorMathBits = Int64
    @inlinable @inline(__always)
    public static func vectorMathBits(_ x: Double) -> Int64 { Int64(bitPattern: x.bitPattern) }
    @inlinable @inline(__always)
    public static func vectorMathValue(bits: Int64) -> Double { Double(bitPattern: UInt64(bitPattern: bits)) }
    /// 42 significant bits: exact times any `|k| ≤ 2047`.
    @inlinable public static var vectorMathLn2High: Double { 0x1.62e42fefa38p-1 }
    @inlinable public static var vectorMathLn2Low: Double { 0x1.ef35793c7673p-45 }
    @inlinable public static var vectorMathLog2E: Double { 0x1.71547652b82fep+0 }
    /// e⁻⁷⁵⁰ is far below half the least subnormal (e^−744.44).
    @inlinable public static var vectorMathExpLowerLimit: Double { -750 }
    /// e⁷¹⁰ is above `Double.greatestFiniteMagnitude` (e^709.78).
    @inlinable public static var vectorMathExpUpperLimit: Double { 710 }
    /// (ln2/2)¹⁴ / 14! ≈ 4·10⁻¹⁸ relative, 0.04 ulp.
    @inlinable public static var vectorMathExpDegree: Int { 13 }
    /// Next term 2z¹¹/23 · s relative to 2s: 6·10⁻¹⁹, 0.01 ulp.
    @inlinable public static var vectorMathLogTerms: Int { 10 }
    @inlinable public static var vectorMathTanhDegree: Int { 10 }
    @inlinable @inline(__always)
    public static func vectorMathTanhCoefficient(_ j: Int) -> Double {
        switch j {
        case 0: return -0x1.5555555555555p-2
        case 1: return 0x1.1111111111032p-3
        case 2: return -0x1.ba1ba1b9fec84p-5
        case 3: return 0x1.664f487713373p-6
        case 4: return -0x1.226e32f00cf0cp-7
        case 5: return 0x1.d6d339333f329p-9
        case 6: return -0x1.7d97cfd138c28p-10
        case 7: return 0x1.34c5a8a996cd4p-11
        case 8: return -0x1.ec1091436eb2ap-13
        case 9: return 0x1.64fd88e9900a5p-14
        default: return -0x1.59a834187ce22p-16
        }
    }
}

// MARK: Building blocks

extension VectorMathScalar {
    /// The exponent bias (127 or 1023).
    @inlinable @inline(__always)
    static var vectorMathBias: VectorMathBits { (1 &<< VectorMathBits(exponentBitCount &- 1)) &- 1 }

    /// `1.5 · 2^p` (p = significand bits): adding it to a value of magnitude below `2^(p−1)` rounds that
    /// value to an integer held in the low bits of the sum's bit pattern.
    @inlinable @inline(__always)
    static var vectorMathRoundingMagic: Self { Self(3 &<< (significandBitCount &- 1)) }

    /// `2ᵏ` for `k` in the normal exponent range, built from its bit pattern.
    @inlinable @inline(__always)
    static func vectorMathPowerOfTwo(_ k: VectorMathBits) -> Self {
        vectorMathValue(bits: (k &+ vectorMathBias) &<< VectorMathBits(significandBitCount))
    }

    /// `1/k!`, correctly rounded for the factorials these functions use (exact in `Self`); constant-folded.
    @inlinable @inline(__always)
    static func vectorMathInverseFactorial(_ k: Int) -> Self {
        var f: Self = 1
        var i = 2
        while i <= k { f *= Self(i); i &+= 1 }
        return 1 / f
    }

    /// `x = k·ln 2 + r` with `k` an integer (returned as bits) and `|r| ≤ ln2/2` (plus a rounding's worth).
    /// `x` must be finite or NaN with `|x / ln 2| < 2^(p−2)`.
    @inlinable @inline(__always)
    static func vectorMathReduce(_ x: Self) -> (k: VectorMathBits, r: Self) {
        let magic = vectorMathRoundingMagic
        let t = x * vectorMathLog2E + magic
        let n = t - magic
        let k = vectorMathBits(t) &- vectorMathBits(magic)
        // Cody–Waite: n·high is exact, so the first subtraction is exact; the low part adds one rounding.
        let r = (x - n * vectorMathLn2High) - n * vectorMathLn2Low
        return (k, r)
    }

    /// `Σ_{j=0}^{degree} coefficient(j)·xʲ`, as four interleaved Horner chains in `x⁴` joined by
    /// `(C₀ + x·C₁) + x²·(C₂ + x·C₃)`. The dependency chain is about a quarter of plain Horner's, which lets a
    /// vectorised loop overlap iterations (plain Horner left these loops latency-bound). `degree` and
    /// `coefficient` must be constants, so that the loop unrolls and the coefficients fold.
    @inlinable @inline(__always)
    static func vectorMathPolynomial(_ x: Self, degree: Int, _ coefficient: (Int) -> Self) -> Self {
        let x2 = x * x, x4 = x2 * x2
        let topBlock = degree & ~3
        // Chain i holds the coefficients i, i+4, i+8, …; one whose top coefficient lies past `degree`
        // starts a block later instead of multiplying a zero by x⁴.
        @inline(__always) func step(_ chain: Self, _ i: Int, _ block: Int) -> Self {
            if block == topBlock { return block + i <= degree ? coefficient(block + i) : 0 }
            if block == topBlock - 4 && topBlock + i > degree { return coefficient(block + i) }
            return chain * x4 + coefficient(block + i)
        }
        var chains: (Self, Self, Self, Self) = (0, 0, 0, 0)
        var block = topBlock
        while block >= 0 {
            chains = (step(chains.0, 0, block), step(chains.1, 1, block), step(chains.2, 2, block), step(chains.3, 3, block))
            block -= 4
        }
        return (chains.0 + x * chains.1) + x2 * (chains.2 + x * chains.3)
    }

    /// `eʳ − 1` for `|r| ≤ ln2/2`: `r + r²·q(r)` with `q` the Taylor polynomial `Σ_{k≥2} rᵏ⁻²/k!`.
    @inlinable @inline(__always)
    static func vectorMathExpm1Kernel(_ r: Self) -> Self {
        let q = vectorMathPolynomial(r, degree: vectorMathExpDegree - 2) { vectorMathInverseFactorial($0 + 2) }
        return r + r * r * q
    }

    /// `eˣ` for `0 ≤ x ≤ 64` or NaN: one power-of-two factor, no clamping (what `tanh` needs).
    @inlinable @inline(__always)
    static func vectorMathExpBounded(_ x: Self) -> Self {
        let (k, r) = vectorMathReduce(x)
        return (1 + vectorMathExpm1Kernel(r)) * vectorMathPowerOfTwo(k)
    }
}

// MARK: The functions

extension VectorMathScalar {
    /// `eˣ` within 1 ulp, in a form loops vectorise.
    ///
    /// `x = k·ln 2 + r` (Cody–Waite), `eʳ` by a Taylor polynomial on `|r| ≤ ln2/2`, then `2ᵏ` applied as
    /// two factors `2^⌊k/2⌋ · 2^(k−⌊k/2⌋)` built from bits, so that subnormal results are rounded once and
    /// correctly, and results past the largest finite value become +∞. `exp(0) = 1` exactly,
    /// `exp(−∞) = 0`, `exp(+∞) = +∞`, NaN stays NaN.
    @inlinable @inline(__always)
    public static func vectorizableExp(_ x: Self) -> Self {
        let lower = vectorMathExpLowerLimit, upper = vectorMathExpUpperLimit
        let clamped = x < lower ? lower : (x > upper ? upper : x)  // NaN compares false and passes through
        let (k, r) = vectorMathReduce(clamped)
        let p = 1 + vectorMathExpm1Kernel(r)
        let k1 = k &>> 1
        return p * vectorMathPowerOfTwo(k1) * vectorMathPowerOfTwo(k &- k1)
    }

    /// Hyperbolic tangent within 2 ulp, in a form loops vectorise.
    ///
    /// Below `|x| = 0.55`, `x + x³·P(x²)` with a fitted polynomial `P`; above, `1 − 2/(e^(2|x|) + 1)`, whose
    /// subtraction no longer cancels (the result is above ½). Both are computed and one is selected, so the
    /// loop has no branch. `|x|` is clamped to 20, where `tanh` rounds to 1, and the sign of `x` is put back.
    /// `tanh(±∞) = ±1`, `tanh(−0) = −0`, NaN stays NaN.
    @inlinable @inline(__always)
    public static func vectorizableTanh(_ x: Self) -> Self {
        let a = x.magnitude
        let z = a * a
        let small = a + a * z * vectorMathPolynomial(z, degree: vectorMathTanhDegree) { vectorMathTanhCoefficient($0) }
        let large = 1 - 2 / (vectorMathExpBounded(2 * (a > 20 ? 20 : a)) + 1)
        return Self(signOf: x, magnitudeOf: a < 0.55 ? small : large)
    }

    /// Logistic sigmoid `1 / (1 + e⁻ˣ)` within 2.5 ulp, in a form loops vectorise.
    ///
    /// With `e = e^−|x|` (never overflows): `1/(1 + e)` for `x ≥ 0` and `e/(1 + e)` below, picked without a
    /// branch. `sigmoid(+∞) = 1`, `sigmoid(−∞) = 0` exactly, NaN stays NaN.
    @inlinable @inline(__always)
    public static func vectorizableSigmoid(_ x: Self) -> Self {
        let e = vectorizableExp(-x.magnitude)
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    /// Natural logarithm within 1 ulp, in a form loops vectorise.
    ///
    /// Subnormal `x` is first scaled by `2^(p+1)`. The bit pattern then gives `x = 2ᵏ·m` with
    /// `m ∈ [√½, √2)`; with `f = m − 1` and `s = f/(2 + f)`, `ln m = f − f²/2 + s·(f²/2 + R(s²))` where
    /// `R` is the series of `2·atanh(s)/s − 2`, and `k·ln 2` is added in two parts (Cody–Waite).
    /// `log(±0) = −∞`, `log(x < 0) = NaN`, `log(+∞) = +∞`, NaN stays NaN, `log(1) = 0` exactly.
    @inlinable @inline(__always)
    public static func vectorizableLog(_ x: Self) -> Self {
        let p = VectorMathBits(significandBitCount)
        let subnormal = x < leastNormalMagnitude
        let scaled = subnormal ? x * vectorMathPowerOfTwo(p &+ 1) : x
        let adjust: VectorMathBits = subnormal ? -(p &+ 1) : 0
        let rootHalf = vectorMathBits(0.70710678118654752440)  // bit pattern of √½ rounded
        let shifted = vectorMathBits(scaled) &+ (vectorMathBits(1) &- rootHalf)
        let k = (shifted &>> p) &- vectorMathBias &+ adjust
        let m = vectorMathValue(bits: (shifted & ((1 &<< p) &- 1)) &+ rootHalf)
        // k as a float without an integer conversion (none exists for 64-bit lanes before AVX-512).
        let magic = vectorMathRoundingMagic
        let kf = vectorMathValue(bits: vectorMathBits(magic) &+ k) - magic
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s
        let series = vectorMathPolynomial(z, degree: vectorMathLogTerms - 1) { 2 / Self(2 * $0 + 3) }
        let r = z * series
        let halfSquare = 0.5 * f * f
        let y = s * (halfSquare + r) + kf * vectorMathLn2Low - halfSquare + f + kf * vectorMathLn2High
        // Few, plain ordered comparisons: each select costs several instructions per lane on SSE2, and
        // `x < .infinity` would become an integer class test (dozens of instructions for 64-bit lanes).
        let finite = x > 0 ? y : (x == 0 ? -Self.infinity : Self.nan)  // negative and NaN give NaN
        return x > greatestFiniteMagnitude ? x : finite
    }
}

// MARK: Rows

// Loops over rows, for kernels: a closure `{ T.vectorizableExp($0) }` handed to a generic map helper is
// too big for the inliner, stays a call per element and does not vectorise; these loops call the
// always-inlined functions directly.
extension VectorMathScalar {
    /// `y[i] = eˣ⁽ⁱ⁾` for `i < count` (``vectorizableExp(_:)``); `x` and `y` may be the same buffer.
    @inlinable
    public static func vectorizableExp(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] = vectorizableExp(x[i]) }
    }

    /// `y[i] = ln x[i]` for `i < count` (``vectorizableLog(_:)``); `x` and `y` may be the same buffer.
    @inlinable
    public static func vectorizableLog(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] = vectorizableLog(x[i]) }
    }

    /// `y[i] = tanh x[i]` for `i < count` (``vectorizableTanh(_:)``); `x` and `y` may be the same buffer.
    @inlinable
    public static func vectorizableTanh(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] = vectorizableTanh(x[i]) }
    }

    /// `y[i] = sigmoid(x[i])` for `i < count` (``vectorizableSigmoid(_:)``); `x` and `y` may be the same buffer.
    @inlinable
    public static func vectorizableSigmoid(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { y[i] = vectorizableSigmoid(x[i]) }
    }
}
