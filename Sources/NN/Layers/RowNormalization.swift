import AutoGrad

/// Layer normalisation or RMS normalisation over the trailing dimensions, fused into one op: inputs `x` of shape
/// `[*, normalizedShape]` and optionally a weight `w` and (layer norm only) a bias `b` of shape `normalizedShape`.
///
/// Each row (the `d = ∏ normalizedShape` trailing elements at one leading position) is normalised on its own:
/// - layer norm: `μ = Σx/d`, `σ² = Σ(x − μ)²/d` (biased), `x̂ = (x − μ)·invstd`, `invstd = 1/√(σ² + ε)`;
/// - RMS norm: `μ = 0`, `x̂ = x·invstd`, `invstd = 1/√(Σx²/d + ε)`;
/// then `y = x̂·w + b` (without `w` or `b` when they are absent). The forward takes each row's statistics in
/// Double (Float elements widened) and writes `y` in one sweep over the row; `μ` and `invstd` stay on the op.
///
/// Backward, per row, with `gw = g·w`:
/// `∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂))` (no `mean(gw)` term for RMS norm), and over the rows
/// `∂w = Σ g·x̂`, `∂b = Σ g`. A plain backward runs these as fused loops for the inputs that need them; a backward
/// that is itself recorded (`createGraph: true`) builds the same formula from differentiable operations on `x`,
/// `w` and `g`, so gradients of gradients work (as ``BatchNormTraining`` does).
final class RowNormalization: FusedBackwardOp {
    var name: String { centered ? "LayerNorm" : "RMSNorm" }

    /// The number of trailing dimensions normalised over.
    let normalizedRank: Int
    /// `ε`, added to the variance (layer norm) or the mean square (RMS norm).
    let eps: Double
    /// Whether the row mean is subtracted: layer norm (true) or RMS norm (false).
    let centered: Bool
    /// Whether the inputs include a weight (the second input) and a bias (the last input).
    let hasWeight: Bool, hasBias: Bool
    /// The row means (zeros for RMS norm) and `invstd` of every row, set by ``forward(_:)``.
    private(set) var mean: [Double] = []
    private(set) var inverseStd: [Double] = []

    init(normalizedRank: Int, eps: Double, centered: Bool, hasWeight: Bool, hasBias: Bool) {
        self.normalizedRank = normalizedRank
        self.eps = eps
        self.centered = centered
        self.hasWeight = hasWeight
        self.hasBias = hasBias
    }

    private func layout(_ shape: [Int]) -> RowLayout {
        let d = shape.suffix(normalizedRank).reduce(1, *)
        return RowLayout(rows: shape.dropLast(normalizedRank).reduce(1, *), d: d, centered: centered)
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let expected = 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0)
        precondition(inputs.count == expected, "\(name): expected \(expected) inputs, got \(inputs.count)")
        let x = inputs[0]
        precondition(x.rank >= normalizedRank, "\(name): input of shape \(x.shape) has fewer than \(normalizedRank) dimensions")
        let normalizedShape = Array(x.shape.suffix(normalizedRank))
        for p in inputs.dropFirst() {
            precondition(p.shape == normalizedShape, "\(name): weight and bias must have shape \(normalizedShape) for input \(x.shape), got \(p.shape)")
        }
        let dtype = inputs.dropFirst().map(\.dtype).reduce(x.dtype, DType.promoted)
        let values = inputs.map { $0.to(dtype) }
        switch dtype {
        case .float32: return forward(values, Float.self)
        case .float64: return forward(values, Double.self)
        }
    }

    private func forward<S: BatchNormScalar>(_ inputs: [Tensor], _: S.Type) -> Tensor {
        let layout = layout(inputs[0].shape)
        let result = normalizationForward(inputs, S.self, hasWeight: hasWeight, hasBias: hasBias, rows: layout.rows) {
            RowNormKernels.forward($0, into: $1, layout, eps: eps, weight: $2, bias: $3, mean: $4, inverseStd: $5)
        }
        (mean, inverseStd) = (result.mean, result.inverseStd)
        return result.output
    }

    /// The closed-form gradients of the inputs that are `needed`: the input gradient's sweep and the column sums
    /// of the weight and bias gradients each run only when wanted.
    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        let values = [g.value] + inputs.map(\.value)
        switch dtype {
        case .float32: return fusedBackward(values.map { $0.to(dtype) }, Float.self, inputs: inputs, needed: needed)
        case .float64: return fusedBackward(values.map { $0.to(dtype) }, Double.self, inputs: inputs, needed: needed)
        }
    }

    private func fusedBackward<S: BatchNormScalar>(_ values: [Tensor], _: S.Type, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let layout = layout(values[1].shape)
        return normalizationBackward(
            values, S.self, inputs: inputs, needed: needed, hasWeight: hasWeight, hasBias: hasBias, parameterShape: Array(values[1].shape.suffix(normalizedRank)),
            inputGradient: {
                RowNormKernels.inputGradient($0, $1, weight: $2, into: $3, layout, mean: mean, inverseStd: inverseStd,
                                             weightGradient: $4, biasGradient: $5)
            },
            parameterGradients: {
                RowNormKernels.parameterGradients($0, $1, layout, mean: mean, inverseStd: inverseStd, weightGradient: $2, biasGradient: $3)
            })
    }

    /// The same gradients built from differentiable operations (statistics recomputed from `x`), for a backward
    /// pass that is recorded and may be differentiated again.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let x = inputs[0]
        let axes = Array((x.rank - normalizedRank)..<x.rank), leading = Array(0..<(x.rank - normalizedRank))
        let centeredX = centered ? x - x.mean(axes: axes, keepDims: true) : x
        let inverseStd = (centeredX.squared().mean(axes: axes, keepDims: true) + eps).pow(-0.5)
        let normalized = centeredX * inverseStd
        func overRows(_ v: Variable) -> Variable { leading.isEmpty ? v : v.sum(axes: leading) }
        var gradients: [Variable?] = Array(repeating: nil, count: inputs.count)
        if needed[0] {
            let gw = hasWeight ? g * inputs[1] : g
            var inner = gw - normalized * (gw * normalized).mean(axes: axes, keepDims: true)
            if centered { inner = inner - gw.mean(axes: axes, keepDims: true) }
            gradients[0] = inverseStd * inner
        }
        if hasWeight && needed[1] { gradients[1] = overRows(g * normalized) }
        if hasBias && needed[inputs.count - 1] { gradients[inputs.count - 1] = overRows(g) }
        return gradients
    }
}

/// Calls `body` with the base address of `tensor`'s elements, or nil when there is no tensor (or it is empty).
func withOptionalPointer<S: TensorScalar, R>(_ tensor: Tensor?, _: S.Type, _ body: (UnsafePointer<S>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer(as: S.self) { body($0.baseAddress) }
}

/// The pointer plumbing shared by the fused normalisations' forwards: `kernel` reads the input (`inputs[0]`), the
/// optional weight (`inputs[1]` when `hasWeight`) and bias (the last input when `hasBias`), and writes a new output of
/// the input's shape and `rows` per-row means and inverse standard deviations, which are returned with it.
func normalizationForward<S: BatchNormScalar>(
    _ inputs: [Tensor], _: S.Type, hasWeight: Bool, hasBias: Bool, rows: Int,
    _ kernel: (_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ weight: UnsafePointer<S>?, _ bias: UnsafePointer<S>?,
               _ mean: UnsafeMutablePointer<Double>, _ inverseStd: UnsafeMutablePointer<Double>) -> Void
) -> (output: Tensor, mean: [Double], inverseStd: [Double]) {
    let x = inputs[0]
    var mean = [Double](repeating: 0, count: rows), inverseStd = mean
    var y = Tensor.empty(x.shape, dtype: x.dtype)
    guard x.count > 0 else { return (y, mean, inverseStd) }
    let weight = hasWeight ? inputs[1] : nil, bias = hasBias ? inputs.last : nil
    y.withUnsafeMutableBufferPointer(as: S.self) { y in
        x.withUnsafeBufferPointer(as: S.self) { x in
            withOptionalPointer(weight, S.self) { w in
                withOptionalPointer(bias, S.self) { b in
                    mean.withUnsafeMutableBufferPointer { mean in
                        inverseStd.withUnsafeMutableBufferPointer { inverseStd in
                            kernel(x.baseAddress!, y.baseAddress!, w, b, mean.baseAddress!, inverseStd.baseAddress!)
                        }
                    }
                }
            }
        }
    }
    return (y, mean, inverseStd)
}

/// The pointer plumbing shared by the fused normalisations' backwards: `values` are the upstream gradient, then the
/// inputs (x, the optional weight at 1, the optional bias last) in the computing dtype.
/// `inputGradient(g, x, weight, gx, weightGradient, biasGradient)` writes every element of x's gradient (which starts
/// uninitialised) when it is needed, and returns whether it also summed the parameter gradients into the two
/// buffers (each nil when not wanted, `parameterShape` elements otherwise), as a kernel that reads `g` and `x` once
/// for both may; `parameterGradients(g, x, weightGradient, biasGradient)` sums them otherwise.
func normalizationBackward<S: BatchNormScalar>(
    _ values: [Tensor], _: S.Type, inputs: [Variable], needed: [Bool], hasWeight: Bool, hasBias: Bool, parameterShape: [Int],
    inputGradient: (_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ weight: UnsafePointer<S>?, _ gx: UnsafeMutablePointer<S>,
                    _ weightGradient: UnsafeMutablePointer<Double>?, _ biasGradient: UnsafeMutablePointer<Double>?) -> Bool,
    parameterGradients: (_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ weightGradient: UnsafeMutablePointer<Double>?,
                         _ biasGradient: UnsafeMutablePointer<Double>?) -> Void
) -> [Variable?] {
    let g = values[0], x = values[1]
    let weightIndex = hasWeight ? 1 : nil, biasIndex = hasBias ? inputs.count - 1 : nil
    var gradients: [Variable?] = Array(repeating: nil, count: inputs.count)
    let wantsWeight = weightIndex.map { needed[$0] } ?? false, wantsBias = biasIndex.map { needed[$0] } ?? false
    var gw = [Double](repeating: 0, count: wantsWeight || wantsBias ? parameterShape.reduce(1, *) : 0), gb = gw
    var parametersSummed = false
    if x.count > 0 {
        g.withUnsafeBufferPointer(as: S.self) { g in
            x.withUnsafeBufferPointer(as: S.self) { x in
                gw.withUnsafeMutableBufferPointer { gw in
                    gb.withUnsafeMutableBufferPointer { gb in
                        let weightGradient = wantsWeight ? gw.baseAddress! : nil, biasGradient = wantsBias ? gb.baseAddress! : nil
                        if needed[0] {
                            var gx = Tensor.empty(values[1].shape, dtype: values[1].dtype)
                            gx.withUnsafeMutableBufferPointer(as: S.self) { gx in
                                withOptionalPointer(weightIndex.map { values[1 + $0] }, S.self) { w in
                                    parametersSummed = inputGradient(g.baseAddress!, x.baseAddress!, w, gx.baseAddress!,
                                                                     weightGradient, biasGradient)
                                }
                            }
                            gradients[0] = Variable(gx.to(inputs[0].dtype))
                        }
                        if (wantsWeight || wantsBias) && !parametersSummed {
                            parameterGradients(g.baseAddress!, x.baseAddress!, weightGradient, biasGradient)
                        }
                    }
                }
            }
        }
    } else if needed[0] {
        gradients[0] = Variable(Tensor.empty(x.shape, dtype: x.dtype).to(inputs[0].dtype))
    }
    if wantsWeight, let i = weightIndex { gradients[i] = Variable(Tensor(shape: parameterShape, scalars: gw, dtype: inputs[i].dtype)) }
    if wantsBias, let i = biasIndex { gradients[i] = Variable(Tensor(shape: parameterShape, scalars: gb, dtype: inputs[i].dtype)) }
    return gradients
}
