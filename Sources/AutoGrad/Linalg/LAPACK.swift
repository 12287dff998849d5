import COpenBLAS

// Shared plumbing for the linear-algebra ops: the error type, a protocol over the Float/Double
// LAPACKE entry points, batch iteration over leading dimensions, and small matrix helpers (masks,
// identities, packing several results into one tensor) used by the forward and backward formulas.
//
// Every call uses LAPACK_ROW_MAJOR, matching Tensor's layout: LAPACKE transposes to and from
// LAPACK's column-major order internally, so no caller has to reason about transposed results.

/// A linear-algebra failure reported by LAPACK: the op, which matrix of the batch, why, and LAPACK's `info`.
///
/// Thrown for problems of the input values (a singular matrix, one that is not positive definite, a
/// decomposition that did not converge) — never a trap or NaN. Shape errors are programming errors
/// and trap instead.
public struct LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// Why the op failed.
    public enum Reason: Sendable, Equatable {
        /// The matrix is singular (an exactly zero pivot or diagonal element).
        case singular
        /// The matrix is not (numerically) positive definite.
        case notPositiveDefinite
        /// The matrix does not have full rank (least squares).
        case rankDeficient
        /// An iterative decomposition (SVD, eigendecomposition) did not converge.
        case noConvergence
        /// LAPACK rejected an argument (`info < 0`): a bug in the library, reported rather than ignored.
        case illegalArgument
    }

    /// The op, e.g. `"cholesky"`.
    public let op: String
    /// Why it failed.
    public let reason: Reason
    /// LAPACK's `info` code (for ``Reason/singular``, the 1-based index of the zero pivot).
    public let info: Int
    /// The row-major index of the failing matrix among the leading (batch) dimensions; 0 for one matrix.
    public let batchIndex: Int

    /// Creates an error; ops throw these, tests compare against them.
    public init(op: String, reason: Reason, info: Int, batchIndex: Int = 0) {
        self.op = op
        self.reason = reason
        self.info = info
        self.batchIndex = batchIndex
    }

    /// One line naming the op, the matrix, the reason and LAPACK's info code.
    public var description: String {
        let what: String
        switch reason {
        case .singular: what = "the matrix is singular (zero pivot at position \(info))"
        case .notPositiveDefinite: what = "the matrix is not positive definite (leading minor of order \(info) is not positive)"
        case .rankDeficient: what = "the matrix does not have full rank (zero diagonal element \(info) of its triangular factor)"
        case .noConvergence: what = "the decomposition did not converge (\(info) off-diagonal elements did not reach zero)"
        case .illegalArgument: what = "LAPACK rejected argument \(-info)"
        }
        return "\(op): matrix \(batchIndex) of the batch: \(what) (LAPACK info \(info))"
    }

    /// Throws when `info` is not zero: negative codes are illegal arguments, positive ones `positive`.
    static func check(_ info: Int, op: String, batchIndex: Int, positive: Reason) throws {
        if info == 0 { return }
        throw LinearAlgebraError(op: op, reason: info < 0 ? .illegalArgument : positive, info: info, batchIndex: batchIndex)
    }
}

// MARK: LAPACKE for Float and Double

/// The LAPACKE routines the ops use, implemented once for `Float` (s…) and once for `Double` (d…).
/// Matrices are row-major and contiguous; leading dimensions are the row lengths.
protocol LAPACKScalar: TensorScalar {
    static func getrf(_ n: Int, _ a: UnsafeMutablePointer<Self>, _ pivots: UnsafeMutablePointer<Int32>) -> Int
    static func getrs(transpose: Bool, _ n: Int, _ nrhs: Int, _ lu: UnsafePointer<Self>, _ pivots: UnsafePointer<Int32>,
                      _ b: UnsafeMutablePointer<Self>) -> Int
    static func potrf(_ n: Int, _ a: UnsafeMutablePointer<Self>) -> Int
    static func trtrs(upper: Bool, transpose: Bool, unit: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Self>,
                      _ b: UnsafeMutablePointer<Self>) -> Int
    static func geqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Self>, _ tau: UnsafeMutablePointer<Self>) -> Int
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Self>, lda: Int, _ tau: UnsafePointer<Self>) -> Int
    static func gesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Self>, _ s: UnsafeMutablePointer<Self>,
                      _ u: UnsafeMutablePointer<Self>, _ vt: UnsafeMutablePointer<Self>) -> Int
    static func syevd(_ n: Int, _ a: UnsafeMutablePointer<Self>, _ w: UnsafeMutablePointer<Self>) -> Int
    static func gels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Self>, _ b: UnsafeMutablePointer<Self>) -> Int
}

private let rowMajor = LAPACK_ROW_MAJOR
private func ch(_ c: Character) -> CChar { CChar(c.asciiValue!) }
private func i32(_ x: Int) -> Int32 { Int32(Swift.max(x, 1)) }   // leading dimensions must be ≥ 1

extension Float: LAPACKScalar {
    static func getrf(_ n: Int, _ a: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Int32>) -> Int {
        Int(LAPACKE_sgetrf(rowMajor, Int32(n), Int32(n), a, i32(n), p))
    }
    static func getrs(transpose: Bool, _ n: Int, _ nrhs: Int, _ lu: UnsafePointer<Float>, _ p: UnsafePointer<Int32>,
                      _ b: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_sgetrs(rowMajor, ch(transpose ? "T" : "N"), Int32(n), Int32(nrhs), lu, i32(n), p, b, i32(nrhs)))
    }
    static func potrf(_ n: Int, _ a: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_spotrf(rowMajor, ch("L"), Int32(n), a, i32(n)))
    }
    static func trtrs(upper: Bool, transpose: Bool, unit: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Float>,
                      _ b: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_strtrs(rowMajor, ch(upper ? "U" : "L"), ch(transpose ? "T" : "N"), ch(unit ? "U" : "N"),
                           Int32(n), Int32(nrhs), a, i32(n), b, i32(nrhs)))
    }
    static func geqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ tau: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_sgeqrf(rowMajor, Int32(m), Int32(n), a, i32(n), tau))
    }
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Float>, lda: Int, _ tau: UnsafePointer<Float>) -> Int {
        Int(LAPACKE_sorgqr(rowMajor, Int32(m), Int32(n), Int32(k), a, i32(lda), tau))
    }
    static func gesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>,
                      _ u: UnsafeMutablePointer<Float>, _ vt: UnsafeMutablePointer<Float>) -> Int {
        let k = Swift.min(m, n)
        return Int(LAPACKE_sgesdd(rowMajor, ch("S"), Int32(m), Int32(n), a, i32(n), s, u, i32(k), vt, i32(n)))
    }
    static func syevd(_ n: Int, _ a: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_ssyevd(rowMajor, ch("V"), ch("L"), Int32(n), a, i32(n), w))
    }
    static func gels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_sgels(rowMajor, ch("N"), Int32(m), Int32(n), Int32(nrhs), a, i32(n), b, i32(nrhs)))
    }
}

extension Double: LAPACKScalar {
    static func getrf(_ n: Int, _ a: UnsafeMutablePointer<Double>, _ p: UnsafeMutablePointer<Int32>) -> Int {
        Int(LAPACKE_dgetrf(rowMajor, Int32(n), Int32(n), a, i32(n), p))
    }
    static func getrs(transpose: Bool, _ n: Int, _ nrhs: Int, _ lu: UnsafePointer<Double>, _ p: UnsafePointer<Int32>,
                      _ b: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dgetrs(rowMajor, ch(transpose ? "T" : "N"), Int32(n), Int32(nrhs), lu, i32(n), p, b, i32(nrhs)))
    }
    static func potrf(_ n: Int, _ a: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dpotrf(rowMajor, ch("L"), Int32(n), a, i32(n)))
    }
    static func trtrs(upper: Bool, transpose: Bool, unit: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Double>,
                      _ b: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dtrtrs(rowMajor, ch(upper ? "U" : "L"), ch(transpose ? "T" : "N"), ch(unit ? "U" : "N"),
                           Int32(n), Int32(nrhs), a, i32(n), b, i32(nrhs)))
    }
    static func geqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ tau: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dgeqrf(rowMajor, Int32(m), Int32(n), a, i32(n), tau))
    }
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Double>, lda: Int, _ tau: UnsafePointer<Double>) -> Int {
        Int(LAPACKE_dorgqr(rowMajor, Int32(m), Int32(n), Int32(k), a, i32(lda), tau))
    }
    static func gesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ s: UnsafeMutablePointer<Double>,
                      _ u: UnsafeMutablePointer<Double>, _ vt: UnsafeMutablePointer<Double>) -> Int {
        let k = Swift.min(m, n)
        return Int(LAPACKE_dgesdd(rowMajor, ch("S"), Int32(m), Int32(n), a, i32(n), s, u, i32(k), vt, i32(n)))
    }
    static func syevd(_ n: Int, _ a: UnsafeMutablePointer<Double>, _ w: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dsyevd(rowMajor, ch("V"), ch("L"), Int32(n), a, i32(n), w))
    }
    static func gels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dgels(rowMajor, ch("N"), Int32(m), Int32(n), Int32(nrhs), a, i32(n), b, i32(nrhs)))
    }
}

// MARK: Batches of matrices

/// The shape of a batch of matrices `[..., rows, columns]`, checked with the op's name.
struct MatrixBatch {
    let batch: [Int], rows: Int, columns: Int
    var count: Int { shapeCount(batch) }
    var matrixSize: Int { rows * columns }

    init(_ shape: [Int], op: String, square: Bool = false) {
        precondition(shape.count >= 2, "\(op): expects a matrix or a batch of matrices [..., m, n], got shape \(shape)")
        batch = Array(shape.dropLast(2))
        rows = shape[shape.count - 2]
        columns = shape[shape.count - 1]
        precondition(!square || rows == columns, "\(op): expects square matrices [..., n, n], got shape \(shape)")
    }
}

/// Checks the shapes of a system `A·X = B` for `op`: `A` is `[..., m, n]` (`[..., n, n]` when
/// `square`), `B` is `[..., m, k]` or a vector `[m]`, with `m` rows either way; returns whether `B` is a vector.
func checkRightHandSide(_ a: [Int], _ b: [Int], op: String, square: Bool) -> Bool {
    let sa = MatrixBatch(a, op: op, square: square)
    let m = square ? "n" : "m"
    let vector = b.count == 1
    precondition(vector || b.count >= 2, "\(op): B must be [..., \(m), k] or [\(m)], got shape \(b)")
    let rows = vector ? b[0] : b[b.count - 2]
    precondition(rows == sa.rows, "\(op): A has shape \(a) but B has shape \(b): B needs \(sa.rows) rows")
    return vector
}

/// The broadcast batch shape of two operands and, for each output matrix, the matrix index in each operand.
func broadcastBatches(_ a: [Int], _ b: [Int], op: String) -> (batch: [Int], indices: [(Int, Int)]) {
    let batch = a == b ? a : Broadcasting.shape(a, b, op: "\(op) (batch dimensions)")
    let sa = Broadcasting.strides(of: a, broadcastTo: batch), sb = Broadcasting.strides(of: b, broadcastTo: batch)
    let strides = contiguousStrides(batch)
    let indices = (0..<shapeCount(batch)).map { i -> (Int, Int) in
        var ia = 0, ib = 0, rest = i
        for d in 0..<batch.count {
            let coordinate = rest / strides[d]
            rest %= strides[d]
            ia += coordinate * sa[d]
            ib += coordinate * sb[d]
        }
        return (ia, ib)
    }
    return (batch, indices)
}

/// `op(A)⁻¹·B` for each matrix of a batch, the shared loop of the solves: checks that `b` is
/// `[..., n, k]`, broadcasts the batch dimensions of `A` (`aShape`) and `b`, copies each right-hand side
/// into the result and calls `solve(aIndex, x, k)` on it in place; a non-zero return is a LAPACK bug.
func solveBatched<T: LAPACKScalar>(_ aShape: MatrixBatch, _ b: Tensor, op: String, _: T.Type,
                                   _ solve: (_ aIndex: Int, _ x: UnsafeMutablePointer<T>, _ k: Int) -> Int) -> Tensor {
    _ = BLAS.prepared
    let sb = MatrixBatch(b.shape, op: op), n = aShape.rows, k = sb.columns
    precondition(sb.rows == n, "\(op): A is \(aShape.batch + [n, n]) but B has \(sb.rows) rows (shape \(b.shape))")
    let b = b.to(T.dtype)
    let (batch, indices) = broadcastBatches(aShape.batch, sb.batch, op: op)
    let out = Tensor(uninitializedShape: batch + [n, k], dtype: T.dtype)
    let o = out.storage.pointer(T.self), src = b.storage.pointer(T.self)
    for (i, (ia, ib)) in indices.enumerated() {
        (o + i * n * k).update(from: src + ib * n * k, count: n * k)
        guard n > 0 && k > 0 else { continue }
        let info = solve(ia, o + i * n * k, k)
        precondition(info == 0, "\(op): LAPACK returned info \(info) for matrix \(ia)")
    }
    return out
}

extension Tensor {
    /// A uniquely owned copy with this dtype (LAPACK overwrites its inputs).
    ///
    /// Every factorisation starts here, so it also settles OpenBLAS's kernel choice first
    /// (`BLAS.prepared`): LAPACK runs on BLAS, and a switch after the first call would change results
    /// in the last bits between otherwise identical calls.
    func workingCopy(_ dtype: DType) -> Tensor {
        _ = BLAS.prepared
        var copy = to(dtype)
        copy.makeUnique()
        return copy
    }

    /// The dtype a linear-algebra op on these operands computes in (float64 wins).
    static func linalgType(_ tensors: Tensor...) -> DType {
        tensors.contains { $0.dtype == .float64 } ? .float64 : .float32
    }

    /// The mask of the lower (or upper) triangle of `[rows, columns]` matrices: 1 where `j ≤ i + k`
    /// (lower) or `j ≥ i + k` (upper), else 0.
    static func triangleMask(rows: Int, columns: Int, upper: Bool, diagonal k: Int = 0, dtype: DType) -> Tensor {
        var values = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns where upper ? j >= i + k : j <= i + k { values[i * columns + j] = 1 }
        }
        return Tensor(shape: [rows, columns], scalars: values, dtype: dtype)
    }

    /// The lower triangle of each matrix in the last two dimensions (`j − i ≤ diagonal`), zeros elsewhere
    /// (PyTorch's `tril`); shape unchanged, rank at least 2.
    public func tril(diagonal k: Int = 0) -> Tensor { triangle(upper: false, diagonal: k) }
    /// The upper triangle of each matrix in the last two dimensions (`j − i ≥ diagonal`), zeros elsewhere
    /// (PyTorch's `triu`); shape unchanged, rank at least 2.
    public func triu(diagonal k: Int = 0) -> Tensor { triangle(upper: true, diagonal: k) }

    private func triangle(upper: Bool, diagonal k: Int) -> Tensor {
        let s = MatrixBatch(shape, op: upper ? "triu" : "tril")
        let mask = Tensor.triangleMask(rows: s.rows, columns: s.columns, upper: upper, diagonal: k, dtype: dtype)
        return Tensor.where(mask, self, Tensor(0, dtype: dtype))
    }

    /// The diagonals of a batch of matrices `[..., m, n]` as `[..., min(m, n)]`.
    public func diagonal() -> Tensor {
        let s = MatrixBatch(shape, op: "diagonal")
        let k = Swift.min(s.rows, s.columns)
        if k == 0 { return Tensor.zeros(s.batch + [0], dtype: dtype) }
        return reshaped(s.batch + [s.matrixSize]).sliced(axis: -1, start: 0, end: (k - 1) * (s.columns + 1) + 1, step: s.columns + 1)
    }
}

extension Variable {
    /// The diagonals of a batch of matrices `[..., m, n]` as `[..., min(m, n)]` (a strided slice).
    /// ∂/∂x = g placed on the diagonals of zeros.
    public func diagonal() -> Variable {
        let s = MatrixBatch(shape, op: "diagonal")
        let k = Swift.min(s.rows, s.columns)
        if k == 0 { return Variable(Tensor.zeros(s.batch + [0], dtype: dtype)) }
        return reshaped(s.batch + [s.matrixSize]).sliced(axis: -1, start: 0, end: (k - 1) * (s.columns + 1) + 1, step: s.columns + 1)
    }

    /// Diagonal matrices `[..., n, n]` from vectors `[..., n]` (PyTorch's `diag_embed`).  ∂/∂x = the diagonals of g.
    public func diagonalEmbedded() -> Variable {
        precondition(rank >= 1, "diagonalEmbedded: expects vectors [..., n], got shape \(shape)")
        return unsqueezed(axis: -1) * Variable(Tensor.eye(shape[rank - 1], dtype: dtype))
    }

    /// The matrices' transposes `[..., n, m]` (the last two dimensions swapped).
    var mT: Variable { transposed(-2, -1) }

    /// The lower (or upper) triangle, zeros elsewhere; `diagonal` shifts the boundary as in PyTorch's `tril`/`triu`.
    /// The backward applies the same mask to g (`where`, so it is differentiable again).
    func triangle(upper: Bool, diagonal k: Int = 0) -> Variable {
        let s = MatrixBatch(shape, op: upper ? "triu" : "tril")
        let mask = Tensor.triangleMask(rows: s.rows, columns: s.columns, upper: upper, diagonal: k, dtype: dtype)
        return Variable.where(mask, self, Variable(Tensor(0, dtype: dtype)))
    }
}

// MARK: Several results from one op

/// Ops with several outputs (QR, SVD, eigh, LU) return them packed into one flat tensor; the public
/// functions slice the parts back out. Gradients of unused parts arrive as zeros.
enum Packing {
    static func pack(_ parts: [Tensor]) -> Tensor {
        Tensor.concatenate(parts.map { $0.reshaped([-1]) }, axis: 0)
    }

    static func unpack(_ packed: Tensor, _ shapes: [[Int]]) -> [Tensor] {
        var start = 0
        return shapes.map { shape in
            let n = shapeCount(shape)
            defer { start += n }
            return packed.sliced(axis: 0, start: start, end: start + n).reshaped(shape)
        }
    }

    static func unpack(_ packed: Variable, _ shapes: [[Int]]) -> [Variable] {
        var start = 0
        return shapes.map { shape in
            let n = shapeCount(shape)
            defer { start += n }
            return packed.sliced(axis: 0, start: start, end: start + n).reshaped(shape)
        }
    }
}

// MARK: Spectral helpers

extension Variable {
    /// `k·ε·max|x|` for vectors `[..., k]`: values this close are treated as equal (or zero).
    private var degeneracyTolerance: Double {
        let epsilon = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let largest = value.count == 0 ? 0 : value.abs().max().item
        return Double(shape[rank - 1]) * epsilon * Swift.max(largest, .leastNormalMagnitude)
    }

    /// `Fᵢⱼ = 1/(xⱼ − xᵢ)` (or `1/(xⱼ + xᵢ)` when `sum`) for vectors `[..., k]`, as `[..., k, k]`, with 0 on
    /// the diagonal and wherever the denominator is within `k·ε·max|x|` of zero (degenerate pairs).
    /// Differentiable where it is not masked; the masks are constants.
    func pairwiseReciprocals(sum: Bool) -> Variable {
        let d = sum ? unsqueezed(axis: -2) + unsqueezed(axis: -1) : unsqueezed(axis: -2) - unsqueezed(axis: -1)
        let mask = Tensor.maximum(d.value.abs() .<= degeneracyTolerance, Tensor.eye(shape[rank - 1], dtype: dtype))
        return Variable(1 - mask) / (d + Variable(mask))
    }

    /// `1/x` elementwise, with 0 where `|x|` is within `k·ε·max|x|` of zero.
    func maskedReciprocal() -> Variable {
        let mask = value.abs() .<= degeneracyTolerance
        return Variable(1 - mask) / (self + Variable(mask))
    }
}
