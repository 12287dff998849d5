/// Elementwise functions of one tensor. One kernel serves them all; the switch runs once per call,
/// outside the loop.
enum UnaryFunction {
    case negate, exp, log, sqrt, abs, sign, tanh, sigmoid, relu, square, reciprocal
    case power(Double)
    case clamp(Double, Double)
    case addScalar(Double)
    case multiplyScalar(Double)
    /// 1 where `lower <= x <= upper`, else 0 (the clamp gradient's mask).
    case insideMask(Double, Double)
    /// 1 where `lower < x < upper`, else 0 (the hardtanh gradient's mask: bounds excluded).
    case strictlyInsideMask(Double, Double)
    /// `log σ(x) = min(x, 0) − log1p(e^(−|x|))`, without overflow or cancellation.
    case logSigmoid
}

/// Elementwise functions of two broadcast tensors.
enum BinaryFunction {
    case add, subtract, multiply, divide, power, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual
}

/// `xʸ` with C's (and PyTorch's) rules, unlike RealModule's `pow(x, y)` (NaN for x < 0 and for 0⁰):
/// a negative base with an integral exponent is defined, and `0⁰ = 1`.
@inline(__always)
private func powLikeC<T: TensorScalar>(_ x: T, _ y: T) -> T {
    if let k = Int(exactly: y) { return T.pow(x, k) }
    return T.pow(x, y)
}

@inline(__always)
private func mapRow<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
    for i in 0..<n { y[i] = f(x[i]) }
}

private func unaryKernel<T: TensorScalar>(_ fn: UnaryFunction, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
    switch fn {
    case .negate: mapRow(x, y, n) { -$0 }
    case .exp: T.vectorizableExp(x, into: y, count: n)
    case .log: T.vectorizableLog(x, into: y, count: n)
    case .sqrt: mapRow(x, y, n) { T.vectorizableSquareRoot($0) }
    case .abs: mapRow(x, y, n) { Swift.abs($0) }
    case .sign: mapRow(x, y, n) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) }
    case .tanh: T.vectorizableTanh(x, into: y, count: n)
    case .sigmoid: T.vectorizableSigmoid(x, into: y, count: n)
    case .relu: mapRow(x, y, n) { $0 > 0 ? $0 : ($0.isNaN ? $0 : 0) }
    case .square: mapRow(x, y, n) { $0 * $0 }
    case .reciprocal: mapRow(x, y, n) { 1 / $0 }
    case .power(let p):
        let e = T(p)
        if p == 2 { mapRow(x, y, n) { $0 * $0 } } else if p == 1 { mapRow(x, y, n) { $0 } } else if p == 0 {
            mapRow(x, y, n) { _ in 1 }
        } else if let k = Int(exactly: p) {
            mapRow(x, y, n) { T.pow($0, k) }
        } else { mapRow(x, y, n) { T.pow($0, e) } }
    case .clamp(let lo, let hi):
        let l = T(lo), h = T(hi)
        mapRow(x, y, n) { $0 < l ? l : ($0 > h ? h : $0) }
    case .addScalar(let s):
        let v = T(s)
        mapRow(x, y, n) { $0 + v }
    case .multiplyScalar(let s):
        let v = T(s)
        mapRow(x, y, n) { $0 * v }
    case .insideMask(let lo, let hi):
        let l = T(lo), h = T(hi)
        mapRow(x, y, n) { $0 >= l && $0 <= h ? 1 : 0 }
    case .strictlyInsideMask(let lo, let hi):
        let l = T(lo), h = T(hi)
        mapRow(x, y, n) { $0 > l && $0 < h ? 1 : 0 }
    case .logSigmoid: mapRow(x, y, n) { Swift.min($0, 0) - T.log(onePlus: T.exp(-Swift.abs($0))) }
    }
}

@inline(__always)
private func zipRow<T: TensorScalar>(_ a: UnsafePointer<T>, _ sa: Int, _ b: UnsafePointer<T>, _ sb: Int,
                                     _ c: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { c[i] = f(a[i], b[i]) }
    } else if sa == 1 && sb == 0 {
        let v = b[0]
        for i in 0..<n { c[i] = f(a[i], v) }
    } else if sa == 0 && sb == 1 {
        let v = a[0]
        for i in 0..<n { c[i] = f(v, b[i]) }
    } else {
        for i in 0..<n { c[i] = f(a[i &* sa], b[i &* sb]) }
    }
}

@inline(__always)
private func flag<T: TensorScalar>(_ condition: Bool) -> T { condition ? 1 : 0 }

private func binaryKernel<T: TensorScalar>(_ fn: BinaryFunction, _ a: UnsafePointer<T>, _ sa: Int,
                                           _ b: UnsafePointer<T>, _ sb: Int, _ c: UnsafeMutablePointer<T>, _ n: Int) {
    switch fn {
    case .add: zipRow(a, sa, b, sb, c, n, +)
    case .subtract: zipRow(a, sa, b, sb, c, n, -)
    case .multiply: zipRow(a, sa, b, sb, c, n, *)
    case .divide: zipRow(a, sa, b, sb, c, n, /)
    case .power: zipRow(a, sa, b, sb, c, n) { powLikeC($0, $1) }
    case .maximum: zipRow(a, sa, b, sb, c, n) { $0.isNaN || $1.isNaN ? T.nan : Swift.max($0, $1) }
    case .minimum: zipRow(a, sa, b, sb, c, n) { $0.isNaN || $1.isNaN ? T.nan : Swift.min($0, $1) }
    case .equal: zipRow(a, sa, b, sb, c, n) { flag($0 == $1) }
    case .notEqual: zipRow(a, sa, b, sb, c, n) { flag($0 != $1) }
    case .less: zipRow(a, sa, b, sb, c, n) { flag($0 < $1) }
    case .lessEqual: zipRow(a, sa, b, sb, c, n) { flag($0 <= $1) }
    case .greater: zipRow(a, sa, b, sb, c, n) { flag($0 > $1) }
    case .greaterEqual: zipRow(a, sa, b, sb, c, n) { flag($0 >= $1) }
    }
}

extension Tensor {
    func unary(_ fn: UnaryFunction) -> Tensor {
        var out = Tensor(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: Tensor.splitUnary(fn, storage.pointer(Float.self), out.storage.pointer(Float.self), count)
        case .float64: Tensor.splitUnary(fn, storage.pointer(Double.self), out.storage.pointer(Double.self), count)
        }
        out.shape = shape
        return out
    }

    private static func splitUnary<T: TensorScalar>(_ fn: UnaryFunction, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        Parallel.forEachPart(n, work: n) { part in
            unaryKernel(fn, x + part.lowerBound, y + part.lowerBound, part.count)
        }
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ fn: BinaryFunction, op: String) -> Tensor {
        let dtype = DType.promoted(a.dtype, b.dtype)
        let a = a.to(dtype), b = b.to(dtype)
        let outShape = a.shape == b.shape ? a.shape : Broadcasting.shape(a.shape, b.shape, op: op)
        var out = Tensor(uninitializedShape: outShape, dtype: dtype)
        switch dtype {
        case .float32: binaryTyped(Float.self, a, b, &out, fn)
        case .float64: binaryTyped(Double.self, a, b, &out, fn)
        }
        return out
    }

    private static func binaryTyped<T: TensorScalar>(_: T.Type, _ a: Tensor, _ b: Tensor, _ out: inout Tensor, _ fn: BinaryFunction) {
        let pa = a.storage.pointer(T.self), pb = b.storage.pointer(T.self), pc = out.storage.pointer(T.self)
        if a.shape == b.shape {
            Parallel.forEachPart(out.count, work: out.count) { part in
                binaryKernel(fn, pa + part.lowerBound, 1, pb + part.lowerBound, 1, pc + part.lowerBound, part.count)
            }
            return
        }
        let (shape, strides) = Broadcasting.coalesce(
            shape: out.shape,
            strides: [Broadcasting.strides(of: a.shape, broadcastTo: out.shape),
                      Broadcasting.strides(of: b.shape, broadcastTo: out.shape)])
        let n = shape.last!, sa = strides[0].last!, sb = strides[1].last!
        if shape.count == 1 {
            // One row (an operand broadcast whole, like `x .> 0`): split the row itself.
            Parallel.forEachPart(n, work: n) { part in
                let start = part.lowerBound
                binaryKernel(fn, pa + start &* sa, sa, pb + start &* sb, sb, pc + start, part.count)
            }
            return
        }
        Broadcasting.forEachRowSplit(shape: shape, strides: strides) { row, oa, ob, _ in
            binaryKernel(fn, pa + oa, sa, pb + ob, sb, pc + row &* n, n)
        }
    }

    // MARK: Public elementwise API

    /// Elementwise sum with broadcasting: `a + b`.
    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .add, op: "add") }
    /// Elementwise difference with broadcasting: `a − b`.
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .subtract, op: "subtract") }
    /// Elementwise product with broadcasting: `a × b`.
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .multiply, op: "multiply") }
    /// Elementwise quotient with broadcasting: `a ÷ b`.
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .divide, op: "divide") }
    /// Elementwise negation: `−x`.
    public static prefix func - (x: Tensor) -> Tensor { x.unary(.negate) }

    /// `x + s` for every element.
    public static func + (x: Tensor, s: Double) -> Tensor { x.unary(.addScalar(s)) }
    /// `s + x` for every element.
    public static func + (s: Double, x: Tensor) -> Tensor { x.unary(.addScalar(s)) }
    /// `x − s` for every element.
    public static func - (x: Tensor, s: Double) -> Tensor { x.unary(.addScalar(-s)) }
    /// `s − x` for every element.
    public static func - (s: Double, x: Tensor) -> Tensor { x.unary(.negate).unary(.addScalar(s)) }
    /// `x × s` for every element.
    public static func * (x: Tensor, s: Double) -> Tensor { x.unary(.multiplyScalar(s)) }
    /// `s × x` for every element.
    public static func * (s: Double, x: Tensor) -> Tensor { x.unary(.multiplyScalar(s)) }
    /// `x ÷ s` for every element.
    public static func / (x: Tensor, s: Double) -> Tensor { x.unary(.multiplyScalar(1 / s)) }
    /// `s ÷ x` for every element.
    public static func / (s: Double, x: Tensor) -> Tensor { x.unary(.reciprocal).unary(.multiplyScalar(s)) }

    /// In-place `a += b`; `b` must broadcast to `a`'s shape.
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// In-place `a -= b`; `b` must broadcast to `a`'s shape.
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// In-place `a *= b`; `b` must broadcast to `a`'s shape.
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// In-place `a /= b`; `b` must broadcast to `a`'s shape.
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// `eˣ`.
    public func exp() -> Tensor { unary(.exp) }
    /// Natural logarithm `ln x` (−∞ at 0, NaN below).
    public func log() -> Tensor { unary(.log) }
    /// `√x`.
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// `|x|`.
    public func abs() -> Tensor { unary(.abs) }
    /// −1, 0 or 1 by the sign of `x` (NaN stays NaN).
    public func sign() -> Tensor { unary(.sign) }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unary(.tanh) }
    /// Logistic sigmoid `1 / (1 + e⁻ˣ)`, computed without overflow for large |x|.
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// `max(x, 0)`.
    public func relu() -> Tensor { unary(.relu) }
    /// `log σ(x) = −softplus(−x)`, computed as `min(x, 0) − log1p(e^(−|x|))`: exact for large |x|
    /// (`x` itself far below 0, about `−e⁻ˣ` far above) with no overflow.
    public func logSigmoid() -> Tensor { unary(.logSigmoid) }
    /// `x²`.
    public func squared() -> Tensor { unary(.square) }
    /// `1 / x`.
    public func reciprocal() -> Tensor { unary(.reciprocal) }
    /// `xᵖ` for a scalar exponent.
    public func pow(_ p: Double) -> Tensor { unary(.power(p)) }
    /// `aᵇ` elementwise with broadcasting.
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .power, op: "pow") }
    /// `min(max(x, lower), upper)`.
    public func clamped(min lower: Double = -.infinity, max upper: Double = .infinity) -> Tensor {
        precondition(lower <= upper, "clamp: min \(lower) is above max \(upper)")
        return unary(.clamp(lower, upper))
    }
    /// 1 where `lower ≤ x ≤ upper`, else 0.
    func insideMask(_ lower: Double, _ upper: Double) -> Tensor { unary(.insideMask(lower, upper)) }
    /// 1 where `lower < x < upper`, else 0.
    func strictlyInsideMask(_ lower: Double, _ upper: Double) -> Tensor { unary(.strictlyInsideMask(lower, upper)) }

    /// Elementwise maximum with broadcasting (NaN if either is NaN).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .maximum, op: "maximum") }
    /// Elementwise minimum with broadcasting (NaN if either is NaN).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .minimum, op: "minimum") }

    /// 1 where `a == b`, else 0 (broadcasting).
    public static func .== (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .equal, op: ".==") }
    /// 1 where `a != b`, else 0 (broadcasting).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .notEqual, op: ".!=") }
    /// 1 where `a < b`, else 0 (broadcasting).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .less, op: ".<") }
    /// 1 where `a <= b`, else 0 (broadcasting).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .lessEqual, op: ".<=") }
    /// 1 where `a > b`, else 0 (broadcasting).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .greater, op: ".>") }
    /// 1 where `a >= b`, else 0 (broadcasting).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .greaterEqual, op: ".>=") }

    /// 1 where `x == s`, else 0.
    public static func .== (x: Tensor, s: Double) -> Tensor { x .== Tensor(s, dtype: x.dtype) }
    /// 1 where `x < s`, else 0.
    public static func .< (x: Tensor, s: Double) -> Tensor { x .< Tensor(s, dtype: x.dtype) }
    /// 1 where `x <= s`, else 0.
    public static func .<= (x: Tensor, s: Double) -> Tensor { x .<= Tensor(s, dtype: x.dtype) }
    /// 1 where `x > s`, else 0.
    public static func .> (x: Tensor, s: Double) -> Tensor { x .> Tensor(s, dtype: x.dtype) }
    /// 1 where `x >= s`, else 0.
    public static func .>= (x: Tensor, s: Double) -> Tensor { x .>= Tensor(s, dtype: x.dtype) }

    /// Picks `a` where `condition` is non-zero and `b` elsewhere; all three broadcast together.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let dtype = DType.promoted(a.dtype, b.dtype)
        let a = a.to(dtype), b = b.to(dtype), c = condition.to(dtype)
        let outShape = Broadcasting.shape(Broadcasting.shape(c.shape, a.shape, op: "where"), b.shape, op: "where")
        var out = Tensor(uninitializedShape: outShape, dtype: dtype)
        switch dtype {
        case .float32: whereTyped(Float.self, c, a, b, &out)
        case .float64: whereTyped(Double.self, c, a, b, &out)
        }
        return out
    }

    private static func whereTyped<T: TensorScalar>(_: T.Type, _ c: Tensor, _ a: Tensor, _ b: Tensor, _ out: inout Tensor) {
        let pc = c.storage.pointer(T.self), pa = a.storage.pointer(T.self), pb = b.storage.pointer(T.self)
        let po = out.storage.pointer(T.self)
        let (shape, strides) = Broadcasting.coalesce(
            shape: out.shape,
            strides: [c, a, b].map { Broadcasting.strides(of: $0.shape, broadcastTo: out.shape) })
        let n = shape.last!, sc = strides[0].last!, sa = strides[1].last!, sb = strides[2].last!
        Broadcasting.forEachRowSplit(shape: shape, strides: strides) { row, oc, oa, ob in
            let o = po + row &* n
            for i in 0..<n { o[i] = pc[oc + i &* sc] != 0 ? pa[oa + i &* sa] : pb[ob + i &* sb] }
        }
    }
}
