// The differentiable API on Variable. Each function applies one primitive Op (Sources/AutoGrad/Ops)
// or is derived from several; derived functions need no backward of their own.

extension Variable {
    /// A constant (no gradient) with the given value.
    public static func constant(_ value: Tensor) -> Variable { Variable(value) }

    // MARK: Arithmetic (broadcasting)

    /// `a + b` with broadcasting.
    ///
    /// Shapes: the result has the NumPy broadcast of both shapes (trailing dimensions aligned, each pair
    /// equal or one of them 1); incompatible shapes trap naming the op and both shapes. The same rule holds
    /// for every binary operation here, and each input's gradient is summed back to its own shape.
    /// Gradient: ∂/∂a = g, ∂/∂b = g.
    public static func + (a: Variable, b: Variable) -> Variable { Add()(a, b) }
    /// `a − b` with broadcasting.  ∂/∂a = g, ∂/∂b = −g.
    public static func - (a: Variable, b: Variable) -> Variable { Subtract()(a, b) }
    /// `a × b` elementwise with broadcasting.  ∂/∂a = g·b, ∂/∂b = g·a.
    public static func * (a: Variable, b: Variable) -> Variable { Multiply()(a, b) }
    /// `a ÷ b` elementwise with broadcasting.  ∂/∂a = g / b, ∂/∂b = −g·a / b².
    public static func / (a: Variable, b: Variable) -> Variable { Divide()(a, b) }
    /// `−x`.  ∂/∂x = −g.
    public static prefix func - (x: Variable) -> Variable { Negate()(x) }

    /// `x + s`.
    public static func + (x: Variable, s: Double) -> Variable { AddScalar(scalar: s)(x) }
    /// `s + x`.
    public static func + (s: Double, x: Variable) -> Variable { AddScalar(scalar: s)(x) }
    /// `x − s`.
    public static func - (x: Variable, s: Double) -> Variable { AddScalar(scalar: -s)(x) }
    /// `s − x`.
    public static func - (s: Double, x: Variable) -> Variable { AddScalar(scalar: s)(-x) }
    /// `x × s`.
    public static func * (x: Variable, s: Double) -> Variable { MultiplyScalar(scalar: s)(x) }
    /// `s × x`.
    public static func * (s: Double, x: Variable) -> Variable { MultiplyScalar(scalar: s)(x) }
    /// `x ÷ s`.
    public static func / (x: Variable, s: Double) -> Variable { MultiplyScalar(scalar: 1 / s)(x) }
    /// `s ÷ x`.
    public static func / (s: Double, x: Variable) -> Variable { MultiplyScalar(scalar: s)(x.pow(-1)) }

    /// `xᵖ` for a constant exponent.  ∂/∂x = g·p·xᵖ⁻¹ (no gradient when p = 0).
    public func pow(_ p: Double) -> Variable { PowerScalar(exponent: p)(self) }
    /// `aᵇ` elementwise with broadcasting.  ∂/∂a = g·b·aᵇ⁻¹, ∂/∂b = g·aᵇ·ln a (0 where a = 0, as PyTorch).
    public static func pow(_ a: Variable, _ b: Variable) -> Variable { Power()(a, b) }
    /// `x²` (as `pow(2)`).  ∂/∂x = 2g·x.
    public func squared() -> Variable { pow(2) }

    // MARK: Elementwise functions

    /// `eˣ`.  ∂/∂x = g·eˣ.
    public func exp() -> Variable { Exp()(self) }
    /// `ln x`.  ∂/∂x = g / x.
    public func log() -> Variable { Log()(self) }
    /// `√x`.  ∂/∂x = g / (2√x).
    public func sqrt() -> Variable { Sqrt()(self) }
    /// `|x|`.  ∂/∂x = g·sign(x); gradient 0 at x = 0 (PyTorch's choice).
    public func abs() -> Variable { Abs()(self) }
    /// −1, 0 or 1 by sign; gradient 0 everywhere.
    public func sign() -> Variable { Sign()(self) }
    /// `tanh x`.  ∂/∂x = g·(1 − tanh²x).
    public func tanh() -> Variable { Tanh()(self) }
    /// `σ(x) = 1 / (1 + e⁻ˣ)`.  ∂/∂x = g·σ(x)·(1 − σ(x)).
    public func sigmoid() -> Variable { Sigmoid()(self) }
    /// `max(x, 0)`.  ∂/∂x = g where x > 0, else 0; gradient 0 at x = 0 (PyTorch's choice).
    public func relu() -> Variable { ReLU()(self) }
    /// `x` where `x > 0`, else `negativeSlope · x` (PyTorch's `leaky_relu`).  ∂/∂x = g where x > 0, else
    /// `negativeSlope · g`; at x = 0 the gradient is `negativeSlope`.
    public func leakyReLU(negativeSlope: Double = 0.01) -> Variable {
        ScaledBelowZero(slope: negativeSlope)(self, detach())
    }
    /// `min(max(x, lower), upper)`; the gradient passes where `lower ≤ x ≤ upper`, boundaries included.
    public func clamped(min lower: Double = -.infinity, max upper: Double = .infinity) -> Variable {
        precondition(lower <= upper, "clamp: min \(lower) is above max \(upper)")
        return Clamp(lower: lower, upper: upper)(self)
    }
    /// `log σ(x) = −softplus(−x)` (PyTorch's `logsigmoid`), computed as `min(x, 0) − log1p(e^(−|x|))`.
    ///
    /// ∂/∂x = g·σ(−x) = g·(1 − σ(x)), written with differentiable ops (second order works). Smooth, so
    /// there is no kink; stable everywhere: `x` itself far below 0, about `−e⁻ˣ` far above, `−∞` at
    /// `−∞`, 0 at `+∞`. Keeps the input's shape.
    public func logSigmoid() -> Variable { LogSigmoid()(self) }
    /// `min(max(x, min), max)` (PyTorch's `hardtanh`, same defaults −1 and 1).
    ///
    /// ∂/∂x = g where `min < x < max`, else 0. Kink: **0 at `x == min` and `x == max`**, PyTorch's rule for
    /// `hardtanh` (unlike ``clamped(min:max:)``, whose gradient passes at the bounds). The mask is a
    /// constant, so second order is the correct zero. Keeps the input's shape; needs `min ≤ max`.
    public func hardtanh(min lower: Double = -1, max upper: Double = 1) -> Variable {
        precondition(lower <= upper, "hardtanh: min \(lower) is above max \(upper)")
        return Clamp(lower: lower, upper: upper, boundariesPass: false)(self)
    }
    /// `value` where `mask` is non-zero, `x` elsewhere (PyTorch's `masked_fill`).
    ///
    /// `mask` is a constant ``Tensor`` of 0/1 (any non-zero element, NaN included, counts as true), as in
    /// ``where(_:_:_:)``, and must broadcast to this variable's shape, which the result keeps; otherwise the
    /// program stops naming the op and both shapes. ∂/∂x = g where the mask is 0, and 0 where it is set
    /// (the filled positions no longer depend on `x`). Built on `where`, so every order of derivative works.
    public func maskedFill(_ mask: Tensor, value: Double) -> Variable {
        precondition(Broadcasting.shape(mask.shape, shape, op: "maskedFill") == shape,
                     "maskedFill: mask shape \(mask.shape) does not broadcast to input shape \(shape)")
        return Variable.where(mask, Variable(Tensor(value, dtype: dtype)), self)
    }
    /// Elementwise maximum; ties split the gradient equally.
    public static func maximum(_ a: Variable, _ b: Variable) -> Variable { Extremum(isMaximum: true)(a, b) }
    /// Elementwise minimum; ties split the gradient equally.
    public static func minimum(_ a: Variable, _ b: Variable) -> Variable { Extremum(isMaximum: false)(a, b) }
    /// `a` where `condition` is non-zero, else `b` (all three broadcast); gradient only to the chosen branch.
    public static func `where`(_ condition: Tensor, _ a: Variable, _ b: Variable) -> Variable { Select(condition: condition)(a, b) }

    // MARK: Reductions

    /// `Σ x` over `axes` (all when nil).  ∂/∂x = g broadcast back over the summed axes.
    ///
    /// Shapes: the reduced axes are removed, or kept with size 1 when `keepDims` is true (the same rule
    /// for every reduction here). Negative axes count from the end; a bad or repeated axis traps.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        Sum(axes: normalizeAxes(axes, rank: rank, op: "sum"), keepDims: keepDims)(self)
    }
    /// Mean over `axes` (all when nil): `Σ x / n`.  ∂/∂x = g / n broadcast back.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let n = Tensor.reducedCount(shape, axes: normalizeAxes(axes, rank: rank, op: "mean"))
        return sum(axes: axes, keepDims: keepDims) * (1 / Double(n))
    }
    /// Maximum over `axes` (all when nil); tied maxima share the gradient equally.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        ExtremumReduction(axes: normalizeAxes(axes, rank: rank, op: "max"), keepDims: keepDims, isMaximum: true)(self)
    }
    /// Minimum over `axes` (all when nil); tied minima share the gradient equally.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        ExtremumReduction(axes: normalizeAxes(axes, rank: rank, op: "min"), keepDims: keepDims, isMaximum: false)(self)
    }
    /// Variance `Σ (x − mean)² / (n − correction)` over `axes` (`correction: 1` is Bessel's, PyTorch's default).
    ///
    /// Derived from mean, subtraction, square and sum, so it needs no backward of its own.
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Variable {
        let n = Tensor.reducedCount(shape, axes: normalizeAxes(axes, rank: rank, op: "variance"))
        let centered = self - mean(axes: axes, keepDims: true)
        return centered.squared().sum(axes: axes, keepDims: keepDims) * (1 / Double(Swift.max(n - correction, 0)))
    }
    /// `log Σ exp(x)` over `axes`, stable: the maximum is subtracted as a constant (it cancels in the gradient).
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let m = Variable(value.max(axes: axes, keepDims: true).clamped(min: -.greatestFiniteMagnitude, max: .greatestFiniteMagnitude))
        let s = (self - m).exp().sum(axes: axes, keepDims: true).log() + m
        return keepDims ? s : s.reshaped(Tensor.reducedShape(shape, axes: normalizeAxes(axes, rank: rank, op: "logSumExp"), keepDims: false))
    }
    /// `softmax` along `axis`: `yᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)`; same shape as `x`.  ∂/∂x = y·(g − Σ g·y).
    public func softmax(axis: Int = -1) -> Variable { Softmax(axis: normalizeAxis(axis, rank: rank, op: "softmax"))(self) }
    /// `log softmax` along `axis`: `x − logSumExp(x)`; same shape as `x`.  ∂/∂x = g − softmax(x)·Σ g.
    public func logSoftmax(axis: Int = -1) -> Variable { LogSoftmax(axis: normalizeAxis(axis, rank: rank, op: "logSoftmax"))(self) }

    /// Running sums along `axis` (PyTorch's `cumsum`): `yᵢ = Σ_{j ≤ i} xⱼ`.
    ///
    /// ∂/∂x = the reversed running sum of g along the axis, `∂/∂xⱼ = Σ_{i ≥ j} gᵢ`; the backward is the
    /// same primitive scanning the other way, so every order of derivative works. Keeps the input's shape;
    /// negative axes count from the end; a scalar takes axis 0 or −1 and is its own sum; an empty axis gives
    /// an empty result. Smooth (linear), no kinks.
    public func cumsum(axis: Int) -> Variable {
        CumSum(axis: normalizeAxis(axis, rank: Swift.max(rank, 1), op: "cumsum"))(self)
    }

    // MARK: Shape

    /// The lower triangle of each matrix in the last two dimensions, zeros above it (PyTorch's `tril`).
    ///
    /// Keeps `x[..., i, j]` where `j − i ≤ diagonal` (0: the main diagonal and below; positive values keep
    /// more super-diagonals, negative ones drop sub-diagonals too). Shapes: `[..., m, n] → [..., m, n]`,
    /// any batch dimensions; rank below 2 stops the program. ∂/∂x = g with the same mask (`where`, so
    /// infinite or NaN entries outside the triangle become exact zeros, as PyTorch).
    public func tril(diagonal k: Int = 0) -> Variable { triangle(upper: false, diagonal: k) }
    /// The upper triangle of each matrix in the last two dimensions, zeros below it (PyTorch's `triu`).
    ///
    /// Keeps `x[..., i, j]` where `j − i ≥ diagonal`. Shapes and gradient as ``tril(diagonal:)``.
    public func triu(diagonal k: Int = 0) -> Variable { triangle(upper: true, diagonal: k) }

    /// The same elements with a new shape (one −1 is inferred).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let s = Tensor.inferShape(newShape, count: value.count, op: "reshape", from: shape)
        return s == shape ? self : Reshape(shape: s)(self)
    }
    /// Dimensions reordered: result dimension `i` is dimension `axes[i]`.  ∂/∂x = g permuted back.
    public func permuted(_ axes: [Int]) -> Variable {
        Permute(axes: axes.map { normalizeAxis($0, rank: rank, op: "permute") })(self)
    }
    /// Two dimensions swapped (the last two by default).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Variable {
        var perm = Array(0..<rank)
        perm.swapAt(normalizeAxis(axis0, rank: rank, op: "transpose"), normalizeAxis(axis1, rank: rank, op: "transpose"))
        return permuted(perm)
    }
    /// Broadcast (expand) to `newShape` (NumPy rules).  ∂/∂x = g summed back to the input's shape.
    public func broadcast(to newShape: [Int]) -> Variable { newShape == shape ? self : BroadcastTo(shape: newShape)(self) }
    /// Summed back to a shape that broadcasts to this one.  ∂/∂x = g broadcast to this shape again.
    public func sum(toShape target: [Int]) -> Variable { target == shape ? self : SumTo(shape: target)(self) }
    /// Size-1 dimensions removed (only `axis` when given).
    public func squeezed(axis: Int? = nil) -> Variable { reshaped(value.squeezed(axis: axis).shape) }
    /// A size-1 dimension inserted at `axis`.
    public func unsqueezed(axis: Int) -> Variable { reshaped(value.unsqueezed(axis: axis).shape) }
    /// Axes `startAxis` through `endAxis` (negative counts from the end) merged into one:
    /// `[d0, …, d(s−1), ds·…·de, d(e+1), …]`; a scalar becomes `[1]`.  ∂/∂x = g reshaped back.
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Variable {
        let r = Swift.max(rank, 1)
        let s = normalizeAxis(startAxis, rank: r, op: "flatten"), e = normalizeAxis(endAxis, rank: r, op: "flatten")
        precondition(s <= e, "flatten: start axis \(startAxis) comes after end axis \(endAxis) for shape \(shape)")
        guard rank > 0 else { return reshaped([1]) }
        return reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }
    /// Elements `start, start + step, …` below `end` along `axis`; that dimension becomes `⌈(end − start) / step⌉`.
    /// ∂/∂x = g placed into zeros of the input's shape. Needs `0 ≤ start ≤ end ≤ shape[axis]` and `step > 0`.
    public func sliced(axis: Int, start: Int, end: Int, step: Int = 1) -> Variable {
        Slice(axis: normalizeAxis(axis, rank: rank, op: "slice"), start: start, end: end, step: step)(self)
    }
    /// Variables joined along an existing axis; all other dimensions must agree.  ∂/∂xᵢ = the slice of g from xᵢ.
    public static func concatenate(_ variables: [Variable], axis: Int = 0) -> Variable {
        precondition(!variables.isEmpty, "concatenate: needs at least one variable")
        return Concatenate(axis: normalizeAxis(axis, rank: variables[0].rank, op: "concatenate")).apply(variables)
    }
    /// Variables of one shape joined along a new axis.
    public static func stack(_ variables: [Variable], axis: Int = 0) -> Variable {
        precondition(!variables.isEmpty, "stack: needs at least one variable")
        let a = normalizeAxis(axis, rank: variables[0].rank + 1, op: "stack")
        return concatenate(variables.map { $0.unsqueezed(axis: a) }, axis: a)
    }
    /// Constant padding, `(before, after)` for each trailing dimension (leading ones without an entry are not padded).
    /// ∂/∂x = the un-padded region of g.
    public func padded(_ padding: [(before: Int, after: Int)], value: Double = 0) -> Variable {
        Pad(padding: padding, value: value)(self)
    }
    /// Gathered along `axis` at `indices` (PyTorch's `gather`); output shape `indices.shape`.
    /// ∂/∂x = g scatter-added back into zeros of the input's shape (repeated indices accumulate).
    public func gathered(axis: Int, indices: TensorIndices) -> Variable {
        Gather(axis: normalizeAxis(axis, rank: rank, op: "gather"), indices: indices)(self)
    }
    /// Slices at `indices` along `axis` (PyTorch's `index_select`); that dimension becomes `indices.count`.
    /// ∂/∂x = g index-added back (repeated indices accumulate).
    public func indexSelected(axis: Int, indices: [Int]) -> Variable {
        IndexSelect(axis: normalizeAxis(axis, rank: rank, op: "indexSelect"), indices: indices)(self)
    }
    /// A zero tensor of `shape` with the slices of `self` added at `indices` along `axis` (PyTorch's `index_add`
    /// into zeros; the adjoint of ``indexSelected(axis:indices:)``): repeated indices accumulate.
    /// ∂/∂x = g index-selected at `indices`.
    public func indexAdded(into shape: [Int], axis: Int, indices: [Int]) -> Variable {
        IndexAdd(shape: shape, axis: normalizeAxis(axis, rank: shape.count, op: "indexAdd"), indices: indices)(self)
    }

    // MARK: Matrix product

    /// Matrix product with NumPy's rules (see ``Tensor/matmul(_:_:transposeA:transposeB:)``).
    public func matmul(_ other: Variable) -> Variable { Variable.matmul(self, other) }

    /// `op(a) · op(b)`, batched over broadcast leading dimensions; transposes are BLAS flags.
    ///
    /// Shapes: `[..., m, k] · [..., k, n] → [..., m, n]`; a rank-1 `a` is a row and a rank-1 `b` a column,
    /// and the added dimension is removed from the result. For `C = A·B`: ∂/∂A = g·Bᵀ, ∂/∂B = Aᵀ·g.
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        precondition(a.rank >= 1 && b.rank >= 1, "matmul: operands need rank ≥ 1, got shapes \(a.shape) and \(b.shape)")
        if let rows = Tensor.foldedRows(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB) {
            // A stack of matrices times one matrix: one product of all their rows (as PyTorch does), so the
            // gradients are one product each too, instead of one per matrix and a sum over them for b's.
            return MatMul(transposeA: false, transposeB: transposeB)(a.reshaped([rows, a.shape[a.rank - 1]]), b)
                .reshaped(Array(a.shape.dropLast()) + [transposeB ? b.shape[0] : b.shape[1]])
        }
        let a2 = a.rank == 1 ? a.reshaped(transposeA ? [-1, 1] : [1, -1]) : a
        let b2 = b.rank == 1 ? b.reshaped(transposeB ? [1, -1] : [-1, 1]) : b
        let product = MatMul(transposeA: transposeA, transposeB: transposeB)(a2, b2)
        if a.rank > 1 && b.rank > 1 { return product }
        var s = product.shape
        if b.rank == 1 { s.removeLast() }
        if a.rank == 1 { s.remove(at: s.count - (b.rank == 1 ? 1 : 2)) }
        return product.reshaped(s)
    }
}
