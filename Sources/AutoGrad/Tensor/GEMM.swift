import CKernels
import COpenBLAS

/// Products smaller than this (`m·n·k` multiply-adds) run on one thread: below it, handing half to a
/// second thread costs more than it saves.
let gemmSplitWork = 1 << 18

/// `c = α·op(a)·op(b) + β·c` in row-major order, through `cblas_sgemm` or `cblas_dgemm` (or CKernels'
/// `ck_sgemm`, see ``BLAS``), split into blocks over ``BLAS/threadCount`` threads when large.
///
/// `op(a)` is `[m, k]`, `op(b)` is `[k, n]`, `c` is `[m, n]`. The split is along the larger of `m`
/// and `n`, into blocks that are multiples of 16 wide (whole register tiles of the kernels): each
/// thread computes a block of `c` with one single-threaded product call. Inside a part of another split
/// loop (a convolution's batch part) the product runs whole on its thread. Which of the two happens depends
/// only on the shapes, ``BLAS/threadCount`` and the calling code: the blocks round differently from one whole
/// product (smaller blocks take other kernels), so a product split only when the pool is free would change
/// its last bits with whatever other threads of the process compute. When another thread holds the pool,
/// the blocks run one after another here. Visible to the package's other modules
/// for kernels that run many small products on buffers of their own (NN's recurrences, one product per time step).
///
/// `threads` (``BLAS/threadCount`` when nil) sets the blocks; tests pass it to be independent of the global setting.
package func gemm<T: TensorScalar>(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: T = 1,
                           _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
                           beta: T, _ c: UnsafeMutablePointer<T>, ldc: Int, threads: Int? = nil) {
    // Before any split: preparing resizes the pool, which waits for the pool, which a split holds.
    _ = BLAS.prepared
    let threads = threads ?? BLAS.threadCount
    let splitRows = m > n
    let blocks = Swift.min(threads, (splitRows ? m : n) / 16)
    guard blocks > 1, m * n * k >= gemmSplitWork, !ThreadPool.isInsidePart else {
        gemmCall(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
                 beta: beta, c, ldc: ldc)
        return
    }
    let length = splitRows ? m : n, tiles = (length + 15) / 16
    ThreadPool.shared.run(parts: blocks) { part in
        let start = Swift.min(length, tiles * part / blocks * 16), end = Swift.min(length, tiles * (part + 1) / blocks * 16)
        guard start < end else { return }
        if splitRows {
            // Rows of c: rows of op(a), which are columns of a when it is transposed.
            gemmCall(transposeA: transposeA, transposeB: transposeB, m: end - start, n: n, k: k, alpha: alpha,
                     a + (transposeA ? start : start * lda), lda: lda, b, ldb: ldb, beta: beta, c + start * ldc, ldc: ldc)
        } else {
            // Columns of c: columns of op(b), which are rows of b when it is transposed.
            gemmCall(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k, alpha: alpha,
                     a, lda: lda, b + (transposeB ? start * ldb : start), ldb: ldb, beta: beta, c + start, ldc: ldc)
        }
    }
}

/// One product on the calling thread: `ck_sgemm` for the Float products ``BLAS`` routes there, else
/// `cblas_sgemm`/`cblas_dgemm` (OpenBLAS runs one thread per call).
@inline(__always)
private func gemmCall<T: TensorScalar>(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                       _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
                                       beta: T, _ c: UnsafeMutablePointer<T>, ldc: Int) {
    let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
    if T.self == Float.self, BLAS.runsOwnFloatKernel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k) {
        ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, Float(alpha), a.reinterpreted(as: Float.self), lda,
                 b.reinterpreted(as: Float.self), ldb, Float(beta), c.reinterpreted(as: Float.self), ldc)
    } else if T.self == Float.self {
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha),
                    a.reinterpreted(as: Float.self), Int32(lda),
                    b.reinterpreted(as: Float.self), Int32(ldb),
                    Float(beta), c.reinterpreted(as: Float.self), Int32(ldc))
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Double(alpha),
                    a.reinterpreted(as: Double.self), Int32(lda),
                    b.reinterpreted(as: Double.self), Int32(ldb),
                    Double(beta), c.reinterpreted(as: Double.self), Int32(ldc))
    }
}
