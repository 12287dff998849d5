import CKernels
import Testing
@testable import NN

// The fused layer and RMS normalisation op (`RowNormalization`) behind `layerNorm`/`LayerNorm` and
// `rmsNorm`/`RMSNorm`: its forward against the formula composed from Variable operations in Double, its fused
// backward (finite differences and the composed formula's gradients, Float against Double), the recorded backward
// that second-order gradients go through, and the layers' parameters and defaults.

/// Layer (`centered`) or RMS normalisation over the last `rank` dimensions, composed from differentiable operations.
private func composedNorm(_ x: Variable, rank: Int, weight: Variable?, bias: Variable?, eps: Double, centered: Bool) -> Variable {
    let axes = Array((x.rank - rank)..<x.rank)
    let c = centered ? x - x.mean(axes: axes, keepDims: true) : x
    var y = c * (c.squared().mean(axes: axes, keepDims: true) + eps).pow(-0.5)
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}

/// The fused op through the public functions.
private func fusedNorm(_ x: Variable, rank: Int, weight: Variable?, bias: Variable?, eps: Double, centered: Bool) -> Variable {
    let shape = Array(x.shape.suffix(rank))
    return centered ? layerNorm(x, normalizedShape: shape, weight: weight, bias: bias, eps: eps)
                    : rmsNorm(x, normalizedShape: shape, weight: weight, eps: eps)
}

/// One configuration: the input shape, how many trailing dimensions are normalised, and which parameters exist.
private struct Case: CustomStringConvertible {
    let shape: [Int]
    let rank: Int
    let weight: Bool
    let bias: Bool
    let centered: Bool
    var description: String { "\(centered ? "LayerNorm" : "RMSNorm") \(shape) over \(rank) weight \(weight) bias \(bias)" }
}

/// Shapes normalised over one and two trailing dimensions, rows shorter and longer than eight (with tails), a
/// single row; every combination of parameters (RMS norm has no bias).
private let shapes: [(shape: [Int], rank: Int)] = [([4, 6], 1), ([3, 5, 7], 1), ([2, 3, 4, 5], 2), ([10], 1), ([3, 4, 5], 2),
                                                  ([2, 19], 1)]
private let cases: [Case] = shapes.flatMap { s in
    [true, false].flatMap { centered in
        [(true, true), (true, false), (false, false)].compactMap { w, b in
            !centered && b ? nil : Case(shape: s.shape, rank: s.rank, weight: w, bias: b, centered: centered)
        }
    }
}

/// Rows with different means and spreads, and a weight and bias that differ per element.
private func values(_ c: Case, dtype: DType = .float64, seed: UInt64) -> [Tensor] {
    let x = Tensor.randn(c.shape, dtype: dtype, generator: RandomGenerator(seed: seed)) * 1.7 + 0.4
    let normalized = Array(c.shape.suffix(c.rank))
    var result = [x]
    if c.weight { result.append(Tensor.uniform(normalized, low: 0.5, high: 1.5, dtype: dtype, generator: RandomGenerator(seed: seed + 1))) }
    if c.bias { result.append(Tensor.uniform(normalized, low: -0.5, high: 0.5, dtype: dtype, generator: RandomGenerator(seed: seed + 2))) }
    return result
}

/// The function of `[x, weight?, bias?]` for `c`, fused or composed.
private func function(_ c: Case, fused: Bool, eps: Double = 1e-5) -> ([Variable]) -> Variable {
    { v in
        let w = c.weight ? v[1] : nil, b = c.bias ? v.last : nil
        return (fused ? fusedNorm : composedNorm)(v[0], c.rank, w, b, eps, c.centered)
    }
}

/// Whether `a` and `b` agree within `tolerance` relative to the larger magnitude of `b` (at least 1).
private func agree(_ a: Tensor, _ b: Tensor, tolerance: Double) -> Bool {
    let scale = Swift.max(1, b.doubles.map(Swift.abs).max() ?? 0)
    return isClose(a, b, tolerance: tolerance * scale)
}

@Suite struct RowNormalizationTests {
    @Test(arguments: [DType.float64, .float32])
    func forwardMatchesTheComposedFormula(dtype: DType) {
        let tolerance = dtype == .float64 ? 1e-12 : 1e-6
        // Plus rows long enough to split over threads.
        let large = [true, false].map { Case(shape: [128, 1024], rank: 1, weight: true, bias: $0, centered: $0) }
        for (k, c) in (cases + large).enumerated() {
            let inputs = values(c, dtype: dtype, seed: UInt64(k))
            let y = function(c, fused: true)(inputs.map { Variable($0) })
            #expect(y.dtype == dtype && y.shape == c.shape, "\(c)")
            let expected = function(c, fused: false)(inputs.map { Variable($0.to(.float64)) }).value
            #expect(agree(y.value, expected, tolerance: tolerance), "\(c) \(dtype)")
        }
    }

    @Test func floatStatisticsStayAccurateFarFromZero() {
        // Rows around 1000 with spread 0.01: Float sums would lose the variance; the op sums in Double.
        let x = (Tensor.randn([16, 64], dtype: .float64, generator: RandomGenerator(seed: 3)) * 0.01 + 1000).to(.float32)
        let y = layerNorm(Variable(x), normalizedShape: [64]).value
        let expected = composedNorm(Variable(x.to(.float64)), rank: 1, weight: nil, bias: nil, eps: 1e-5, centered: true).value
        #expect(agree(y, expected, tolerance: 2e-4))
    }

    @Test func floatStatisticsStayAccurateWhenTheFirstElementIsAnOutlier() {
        // The Float kernel sums about each row's first element; here that element lies 1e4 from the rest (spread 0.01),
        // the case where the shifted sums are furthest from the centred ones.
        var values = (Tensor.randn([8, 48], dtype: .float64, generator: RandomGenerator(seed: 5)) * 0.01).doubles
        for r in 0..<8 { values[r * 48] = r.isMultiple(of: 2) ? 1e4 : -1e4 }
        let x = Tensor(shape: [8, 48], scalars: values).to(.float32)
        let y = layerNorm(Variable(x), normalizedShape: [48]).value
        let expected = composedNorm(Variable(x.to(.float64)), rank: 1, weight: nil, bias: nil, eps: 1e-5, centered: true).value
        #expect(agree(y, expected, tolerance: 2e-4))
    }

    @Test func fusedGradientsMatchFiniteDifferences() throws {
        for (k, c) in cases.enumerated() {
            let inputs = values(c, seed: UInt64(10 + k))
            _ = try gradcheck(function(c, fused: true), inputs: inputs, name: "\(c)")
            // Only some inputs requiring gradients: each gets the right one.
            for i in inputs.indices where inputs.count > 1 {
                let checking = inputs.indices.map { $0 == i }
                _ = try gradcheck(function(c, fused: true), inputs: inputs, checking: checking, name: "\(c) checking \(checking)")
            }
        }
    }

    @Test func secondOrderGradientsGoThroughTheRecordedBackward() throws {
        for (k, c) in cases.enumerated() {
            _ = try gradgradcheck(function(c, fused: true), inputs: values(c, seed: UInt64(20 + k)), name: "\(c)")
        }
    }

    @Test(arguments: [DType.float64, .float32])
    func fusedBackwardMatchesTheComposedGradients(dtype: DType) {
        // The reference is the composed formula's gradients in Double at the same (possibly Float) values: Float
        // results agree with Double ones to Float's precision. The recorded backward runs in the input's dtype.
        let (fusedTolerance, recordedTolerance) = dtype == .float64 ? (1e-11, 1e-11) : (1e-5, 1e-4)
        let large = [true, false].map { Case(shape: [128, 1024], rank: 1, weight: true, bias: $0, centered: $0) }
        for (k, c) in (cases + large).enumerated() {
            let inputs = values(c, dtype: dtype, seed: UInt64(30 + k)).map { Variable($0, requiresGrad: true) }
            let seed = Tensor.randn(c.shape, dtype: dtype, generator: RandomGenerator(seed: UInt64(40 + k)))
            let f = function(c, fused: true)
            let fused = Graph.gradients(of: f(inputs), withRespectTo: inputs, seed: seed)
            let recorded = Graph.gradients(of: f(inputs), withRespectTo: inputs, seed: seed, createGraph: true)
            let exact = inputs.map { Variable($0.value.to(.float64), requiresGrad: true) }
            let composed = Graph.gradients(of: function(c, fused: false)(exact), withRespectTo: exact, seed: seed.to(.float64))
            #expect(fused.allSatisfy { !$0.requiresGrad } && recorded[0].requiresGrad)
            for i in inputs.indices {
                #expect(fused[i].dtype == dtype && fused[i].shape == inputs[i].shape)
                #expect(agree(fused[i].value, composed[i].value, tolerance: fusedTolerance), "\(c) \(dtype) input \(i)")
                #expect(agree(recorded[i].value, composed[i].value, tolerance: recordedTolerance), "\(c) \(dtype) input \(i)")
            }
        }
    }

    @Test func floatParameterGradientsAreTheSameWithOrWithoutTheInputGradient() {
        // Float rows sum the weight and bias gradients in the input gradient's pass when x needs a gradient, and in
        // their own pass otherwise; both sum Float blocks of rows and add the blocks in Double, in the same order,
        // so the totals agree to the bit. Row counts that are not multiples of a block, and rows with tails.
        let shapes = [[200, 37], [130, 128], [3, 9]]
        for (k, shape) in shapes.enumerated() {
            for centered in [true, false] {
                let c = Case(shape: shape, rank: 1, weight: true, bias: centered, centered: centered)
                let inputs = values(c, dtype: .float32, seed: UInt64(60 + k))
                let seed = Tensor.randn(shape, dtype: .float32, generator: RandomGenerator(seed: UInt64(70 + k)))
                func parameterGradients(inputNeedsGradient: Bool) -> [[Double]] {
                    let variables = inputs.enumerated().map { Variable($0.element, requiresGrad: $0.offset > 0 || inputNeedsGradient) }
                    let parameters = Array(variables.dropFirst())
                    return Graph.gradients(of: function(c, fused: true)(variables), withRespectTo: parameters, seed: seed)
                        .map(\.value.doubles)
                }
                #expect(parameterGradients(inputNeedsGradient: true) == parameterGradients(inputNeedsGradient: false), "\(c)")
            }
        }
    }

    @Test func floatParameterGradientsDoNotDependOnHowTheWorkIsSplit() {
        // Threads split the input gradient's rows at block boundaries and the parameter pass's columns anywhere: the
        // kernels called on such parts give the totals of one call over everything, to the bit.
        let (rows, d) = (200, 37), blockRows = Int(CK_ROW_NORM_BLOCK_ROWS)
        let x = Tensor.randn([rows, d], dtype: .float32, generator: RandomGenerator(seed: 80)).floats
        let g = Tensor.randn([rows, d], dtype: .float32, generator: RandomGenerator(seed: 81)).floats
        var mean = [Double](repeating: 0, count: rows), inverseStd = mean, y = x
        ck_row_norm_f32(x, &y, rows, d, 1e-5, nil, nil, 1, &mean, &inverseStd)
        func columnTotals(splitAt split: Int) -> [Double] {
            var weight = [Double](repeating: .nan, count: d), bias = weight
            for (start, end) in [(0, split), (split, d)] {
                weight.withUnsafeMutableBufferPointer { w in
                    bias.withUnsafeMutableBufferPointer { b in
                        ck_row_norm_parameter_gradients_f32(g, x, rows, d, mean, inverseStd, start, end - start, w.baseAddress, b.baseAddress)
                    }
                }
            }
            return weight + bias
        }
        func blockTotals(splitAtBlock split: Int) -> [Double] {
            let blocks = (rows + blockRows - 1) / blockRows
            var sums = [Float](repeating: .nan, count: blocks * 2 * d), gx = x
            for (first, end) in [(0, split), (split, blocks)] where first < end {
                let firstRow = first * blockRows, count = Swift.min(end * blockRows, rows) - firstRow
                sums.withUnsafeMutableBufferPointer { s in
                    gx.withUnsafeMutableBufferPointer { gx in
                        ck_row_norm_input_gradient_f32(Array(g[(firstRow * d)...]), Array(x[(firstRow * d)...]), nil, gx.baseAddress! + firstRow * d,
                                                       count, d, 1, Array(mean[firstRow...]), Array(inverseStd[firstRow...]),
                                                       s.baseAddress! + first * 2 * d)
                    }
                }
            }
            let weight = (0..<d).map { j in (0..<blocks).reduce(0.0) { $0 + Double(sums[$1 * 2 * d + j]) } }
            let bias = (0..<d).map { j in (0..<blocks).reduce(0.0) { $0 + Double(sums[$1 * 2 * d + d + j]) } }
            return weight + bias
        }
        let reference = columnTotals(splitAt: d)
        #expect(!reference.contains { $0.isNaN })
        for split in [0, 5, 8, 33] { #expect(columnTotals(splitAt: split) == reference, "columns split at \(split)") }
        for split in [0, 1, 2, 4] { #expect(blockTotals(splitAtBlock: split) == reference, "rows split at block \(split)") }
    }

    @Test func layerNormOfAKnownRow() {
        // [1, 2, 3, 4]: μ = 2.5, σ² = 1.25; with ε = 0, x̂ = (x − 2.5)/√1.25.
        let y = layerNorm(Variable(Tensor([1.0, 2, 3, 4])), normalizedShape: [4], eps: 0).value.doubles
        let s = 1.25.squareRoot()
        #expect(zip(y, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]).allSatisfy { Swift.abs($0 - $1) <= 1e-15 })
    }

    @Test func rmsNormDefaultEpsIsTheDtypesMachineEpsilon() {
        // Values of 1e-4: mean square 1e-8, so Float's ε (1.19e-7) changes the result and Double's (2.2e-16) barely.
        for dtype in [DType.float32, .float64] {
            let x = Tensor.full([2, 3], 1e-4, dtype: dtype)
            let eps = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
            let expected = 1e-4 / (1e-8 + eps).squareRoot()
            let layer = RMSNorm(normalizedShape: [3], dtype: dtype)
            #expect(layer.eps == nil)
            for y in [rmsNorm(Variable(x), normalizedShape: [3]), layer(Variable(x))] {
                #expect(y.value.doubles.allSatisfy { Swift.abs($0 - expected) <= 1e-6 * expected }, "\(dtype)")
            }
        }
    }

    @Test func inputsThatDoNotEndInTheNormalizedShapeTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = layerNorm(Variable(Tensor.zeros([2, 3])), normalizedShape: [4])
        }
        await #expect(processExitsWith: .failure) {
            _ = RMSNorm(normalizedShape: [3, 4])(Variable(Tensor.zeros([3, 5])))
        }
        await #expect(processExitsWith: .failure) {
            _ = layerNorm(Variable(Tensor.zeros([2, 3])), normalizedShape: [3], weight: Variable(Tensor.ones([2])))
        }
    }

    @Test func summaryNamesTheConfiguration() {
        #expect(LayerNorm(normalizedShape: 8).description == "LayerNorm([8], eps: 1e-05, elementwiseAffine: true, bias: true)")
        #expect(RMSNorm(normalizedShape: [2, 8]).description == "RMSNorm([2, 8], eps: nil, elementwiseAffine: true)")
    }

    @Test func layersHavePyTorchsParametersAndStateDictKeys() {
        let norm = LayerNorm(normalizedShape: [3, 4])
        #expect(norm.stateDict().keys.sorted() == ["bias", "weight"])
        #expect(norm.weight!.value == Tensor.ones([3, 4]) && norm.bias!.value == Tensor.zeros([3, 4]))
        #expect(norm.eps == 1e-5 && norm.normalizedShape == [3, 4])
        #expect(LayerNorm(normalizedShape: 5, bias: false).stateDict().keys.sorted() == ["weight"])
        #expect(LayerNorm(normalizedShape: 5, elementwiseAffine: false).stateDict().isEmpty)
        let rms = RMSNorm(normalizedShape: 6)
        #expect(rms.stateDict().keys.sorted() == ["weight"] && rms.weight!.value == Tensor.ones([6]))
        #expect(RMSNorm(normalizedShape: [6], elementwiseAffine: false).stateDict().isEmpty)
        // The layers train their parameters: gradients reach weight and bias through the fused op.
        let x = Variable(Tensor.randn([4, 3, 4], generator: RandomGenerator(seed: 1)))
        (norm(x) * Variable(Tensor.randn([4, 3, 4], generator: RandomGenerator(seed: 2)))).sum().backward()
        #expect(norm.weight!.grad?.shape == [3, 4] && norm.bias!.grad?.shape == [3, 4])
    }
}
