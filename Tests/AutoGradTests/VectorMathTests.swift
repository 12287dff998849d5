import Foundation
import Testing
@testable import AutoGrad

// Accuracy of the vectorisable exp, log, tanh and sigmoid (VectorMath.swift), measured through the tensor
// kernels that use them, against glibc (through Foundation) in Double. Errors are in ulps of the reference
// rounded to the tested type; for Double the reference's own error (under 1 ulp) is included.

/// The worst error of `f` (applied to a 1-D tensor of `inputs`) against `reference`, in ulps of the
/// reference rounded to `T`, with the input where it occurs. A special value (NaN, ±∞) that differs, or an
/// infinite result where a finite one is due, counts as an infinite error.
func maxUlpError<T: TensorScalar>(_ inputs: [T], _ f: (Tensor) -> Tensor,
                                  reference: (Double) -> Double) -> (ulps: Double, at: Double) {
    let outputs = f(Tensor(shape: [inputs.count], scalars: inputs)).scalars(as: T.self)
    var worst = (ulps: 0.0, at: Double.nan)
    for (x, y) in zip(inputs, outputs) {
        let expected = reference(Double(x))
        let rounded = T(expected)
        let error: Double
        if y.isNaN || expected.isNaN {
            error = y.isNaN && expected.isNaN ? 0 : .infinity
        } else if y.isInfinite || rounded.isInfinite {
            error = y == rounded ? 0 : .infinity
        } else {
            error = Swift.abs(Double(y) - expected) / Double(rounded.ulp)
        }
        if error > worst.ulps || (error.isNaN && !worst.ulps.isNaN) { worst = (error, Double(x)) }
    }
    return worst
}

/// `lower, lower + step, …` up to `upper`, rounded to `T`, then `count` seeded uniform points in the range.
func sweep<T: TensorScalar>(_: T.Type, _ lower: Double, _ upper: Double, step: Double, random count: Int = 20_000,
                            seed: UInt64 = 7) -> [T] {
    let steps = Int(((upper - lower) / step).rounded(.down))
    var values = (0...steps).map { T(lower + Double($0) * step) }
    let g = RandomGenerator(seed: seed)
    values += (0..<count).map { _ in T(lower + (upper - lower) * g.nextUniform()) }
    return values
}

/// `count` seeded random positive finite values of `T`, uniform over bit patterns: every binade, subnormals included.
func positiveBitPatterns<T: TensorScalar>(_: T.Type, count: Int, seed: UInt64) -> [T] {
    let g = RandomGenerator(seed: seed)
    let infinityBits = UInt64(truncatingIfNeeded: T.vectorMathBits(.infinity))
    return (0..<count).map { _ in
        T.vectorMathValue(bits: T.VectorMathBits(truncatingIfNeeded: 1 + g.nextBelow(infinityBits - 1)))
    }
}

/// Whether `value` is within one ulp of `reference` rounded to `T`.
private func withinOneUlp<T: TensorScalar>(_ value: T, _ reference: Double) -> Bool {
    let rounded = T(reference)
    return Swift.abs(Double(value) - reference) <= Double(rounded.ulp)
}

/// Logistic sigmoid in Double, stable for both signs (the reference).
private func referenceSigmoid(_ x: Double) -> Double {
    x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
}

@Suite struct VectorMathTests {
    // MARK: The checker

    @Test func checkerRejectsAWrongFunction() {
        let inputs = sweep(Float.self, -20, 20, step: 0.01, random: 0)
        let slightlyOff = maxUlpError(inputs, { $0.exp() * 1.00001 }, reference: Foundation.exp)
        #expect(slightlyOff.ulps > 50, "exp·(1+1e-5) is 84 ulp off, measured \(slightlyOff.ulps)")
        let right = maxUlpError(inputs, { $0.exp() }, reference: Foundation.exp)
        #expect(right.ulps <= 1)
        let wrongValue = maxUlpError([Float(1)], { $0.log() - 1 }, reference: Foundation.exp)
        #expect(wrongValue.ulps > 1000)
        let finiteInsteadOfNaN = maxUlpError([Float(-1)], { $0.exp() }, reference: Foundation.log)
        #expect(finiteInsteadOfNaN.ulps == .infinity)
        let infinityMismatch = maxUlpError([Float(100)], { $0 }, reference: Foundation.exp)
        #expect(infinityMismatch.ulps == .infinity)
    }

    // MARK: exp

    @Test func expFloatWithinOneUlp() {
        // Every 1/1000 from where exp underflows to 0 to where it overflows, and past both ends.
        let inputs = sweep(Float.self, -110, 90, step: 0.001)
        let worst = maxUlpError(inputs, { $0.exp() }, reference: Foundation.exp)
        #expect(worst.ulps <= 1, "exp Float: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func expDoubleWithinOneUlp() {
        let inputs = sweep(Double.self, -750, 711, step: 0.01) + sweep(Double.self, -1, 1, step: 1e-5, seed: 8)
        let worst = maxUlpError(inputs, { $0.exp() }, reference: Foundation.exp)
        #expect(worst.ulps <= 1, "exp Double: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func expSpecialValues() {
        func check<T: TensorScalar>(_: T.Type) {
            #expect(T.vectorizableExp(0) == 1)
            #expect(T.vectorizableExp(-0.0) == 1)
            #expect(T.vectorizableExp(.infinity) == .infinity)
            #expect(T.vectorizableExp(-.infinity) == 0)
            #expect(T.vectorizableExp(.nan).isNaN)
            #expect(T.vectorizableExp(T.vectorMathExpUpperLimit) == .infinity)
            #expect(T.vectorizableExp(T.greatestFiniteMagnitude) == .infinity)
            #expect(T.vectorizableExp(-T.greatestFiniteMagnitude) == 0)
            #expect(T.vectorizableExp(T.vectorMathExpLowerLimit + 1) == 0)
            #expect(withinOneUlp(T.vectorizableExp(1), Foundation.exp(1.0)))
            // Subnormal results are computed, not flushed: e^(ln 2 · (emin − 3)) is 2^(emin−3).
            let subnormal = T(Foundation.log(2.0) * Double(T.leastNormalMagnitude.exponent - 3))
            #expect(T.vectorizableExp(subnormal).isSubnormal)
            #expect(withinOneUlp(T.vectorizableExp(subnormal), Foundation.exp(Double(subnormal))))
            let t = Tensor(shape: [4], scalars: [T(0), .infinity, -.infinity, .nan]).exp().scalars(as: T.self)
            #expect(t[0] == 1 && t[1] == .infinity && t[2] == 0 && t[3].isNaN)
        }
        check(Float.self)
        check(Double.self)
    }

    // MARK: tanh

    @Test func tanhFloatWithinTwoUlp() {
        let inputs = sweep(Float.self, -12, 12, step: 1e-4) + sweep(Float.self, -0.01, 0.01, step: 1e-7, seed: 8)
        let worst = maxUlpError(inputs, { $0.tanh() }, reference: Foundation.tanh)
        #expect(worst.ulps <= 2, "tanh Float: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func tanhDoubleWithinTwoUlp() {
        let inputs = sweep(Double.self, -25, 25, step: 1e-4) + sweep(Double.self, -0.6, 0.6, step: 1e-5, seed: 8)
        let worst = maxUlpError(inputs, { $0.tanh() }, reference: Foundation.tanh)
        #expect(worst.ulps <= 2, "tanh Double: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func tanhSpecialValues() {
        func check<T: TensorScalar>(_: T.Type) {
            #expect(T.vectorizableTanh(0) == 0)
            let negativeZero = T.vectorizableTanh(-0.0)
            #expect(negativeZero == 0 && negativeZero.sign == .minus)
            #expect(T.vectorizableTanh(.infinity) == 1)
            #expect(T.vectorizableTanh(-.infinity) == -1)
            #expect(T.vectorizableTanh(T.greatestFiniteMagnitude) == 1)
            #expect(T.vectorizableTanh(.nan).isNaN)
            #expect(T.vectorizableTanh(T.leastNonzeroMagnitude) == T.leastNonzeroMagnitude)
            #expect(T.vectorizableTanh(-T.leastNormalMagnitude) == -T.leastNormalMagnitude)
        }
        check(Float.self)
        check(Double.self)
    }

    // MARK: sigmoid

    @Test func sigmoidFloatWithinTwoAndAHalfUlp() {
        let inputs = sweep(Float.self, -110, 110, step: 1e-3)
        let worst = maxUlpError(inputs, { $0.sigmoid() }, reference: referenceSigmoid)
        #expect(worst.ulps <= 2.5, "sigmoid Float: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func sigmoidDoubleWithinTwoAndAHalfUlp() {
        let inputs = sweep(Double.self, -750, 750, step: 0.01) + sweep(Double.self, -5, 5, step: 1e-4, seed: 8)
        let worst = maxUlpError(inputs, { $0.sigmoid() }, reference: referenceSigmoid)
        #expect(worst.ulps <= 2.5, "sigmoid Double: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func sigmoidSpecialValues() {
        func check<T: TensorScalar>(_: T.Type) {
            #expect(T.vectorizableSigmoid(.infinity) == 1)
            #expect(T.vectorizableSigmoid(-.infinity) == 0)
            #expect(T.vectorizableSigmoid(0) == 0.5)
            #expect(T.vectorizableSigmoid(-0.0) == 0.5)
            #expect(T.vectorizableSigmoid(.nan).isNaN)
            #expect(T.vectorizableSigmoid(T.greatestFiniteMagnitude) == 1)
            #expect(T.vectorizableSigmoid(-T.greatestFiniteMagnitude) == 0)
        }
        check(Float.self)
        check(Double.self)
    }

    // MARK: log

    @Test func logFloatWithinOneUlp() {
        let inputs = sweep(Float.self, 1e-3, 100, step: 1e-3) + sweep(Float.self, 0.5, 2, step: 1e-5, random: 0)
            + positiveBitPatterns(Float.self, count: 200_000, seed: 9)
        let worst = maxUlpError(inputs, { $0.log() }, reference: Foundation.log)
        #expect(worst.ulps <= 1, "log Float: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func logDoubleWithinOneUlp() {
        let inputs = sweep(Double.self, 1e-3, 100, step: 1e-3) + sweep(Double.self, 0.5, 2, step: 1e-5, random: 0)
            + positiveBitPatterns(Double.self, count: 200_000, seed: 9)
        let worst = maxUlpError(inputs, { $0.log() }, reference: Foundation.log)
        #expect(worst.ulps <= 1, "log Double: \(worst.ulps) ulp at \(worst.at)")
    }

    @Test func logSpecialValues() {
        func check<T: TensorScalar>(_: T.Type) {
            #expect(T.vectorizableLog(1) == 0)
            #expect(T.vectorizableLog(0) == -.infinity)
            #expect(T.vectorizableLog(-0.0) == -.infinity)
            #expect(T.vectorizableLog(.infinity) == .infinity)
            #expect(T.vectorizableLog(-1).isNaN)
            #expect(T.vectorizableLog(-.infinity).isNaN)
            #expect(T.vectorizableLog(.nan).isNaN)
            #expect(withinOneUlp(T.vectorizableLog(2), Foundation.log(2.0)))
            // Subnormal inputs: the least one is 2^(emin − p + 1).
            let least = T.leastNonzeroMagnitude
            #expect(withinOneUlp(T.vectorizableLog(least), Foundation.log(Double(least))))
            let greatest = T.greatestFiniteMagnitude
            #expect(withinOneUlp(T.vectorizableLog(greatest), Foundation.log(Double(greatest))))
        }
        check(Float.self)
        check(Double.self)
    }
}
