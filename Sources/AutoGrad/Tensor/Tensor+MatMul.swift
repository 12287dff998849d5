extension Tensor {
    /// Matrix product `a · b` (or with either factor transposed), batched over leading dimensions.
    ///
    /// Shapes: `a` is `[..., m, k]` (`[..., k, m]` when `transposeA`), `b` is `[..., k, n]`
    /// (`[..., n, k]` when `transposeB`); the batch dimensions broadcast; the result is `[..., m, n]`.
    /// One-dimensional operands follow NumPy: a vector `a` is a row `[1, k]`, a vector `b` a column
    /// `[k, 1]`, and the added dimension is removed from the result. Transposes are passed to
    /// `cblas_sgemm`/`cblas_dgemm` as flags, never copied.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 1 && b.rank >= 1, "matmul: operands need rank ≥ 1, got shapes \(a.shape) and \(b.shape)")
        if let rows = foldedRows(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB) {
            let product = matmul2(a.reshaped([rows, a.shape[a.rank - 1]]), b, transposeA: false, transposeB: transposeB)
            return product.reshaped(Array(a.shape.dropLast()) + [product.shape[1]])
        }
        let vectorA = a.rank == 1, vectorB = b.rank == 1
        let a2 = vectorA ? a.reshaped(transposeA ? [a.count, 1] : [1, a.count]) : a
        let b2 = vectorB ? b.reshaped(transposeB ? [1, b.count] : [b.count, 1]) : b
        var out = matmul2(a2, b2, transposeA: transposeA, transposeB: transposeB)
        if vectorA || vectorB {
            var s = out.shape
            if vectorB { s.removeLast() }
            if vectorA { s.remove(at: s.count - (vectorB ? 1 : 2)) }
            out.setShape(s)
        }
        return out
    }

    /// The number of rows when `a` (`[..., m, k]`, rank > 2, not transposed) times the matrix `b` is computed as one
    /// product of all of `a`'s rows, `[batch·m, k] · op(b)`; nil when the product is not of that form (or is empty,
    /// or its inner dimensions differ, which the batched route reports with the original shapes).
    static func foldedRows(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) -> Int? {
        guard a.count > 2, b.count == 2, !transposeA, let k = a.last, k > 0, k == (transposeB ? b[1] : b[0]) else { return nil }
        let rows = a.dropLast().reduce(1, *)
        return rows > 0 ? rows : nil
    }

    private static func matmul2(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        _ = BLAS.prepared
        let dtype = DType.promoted(a.dtype, b.dtype)
        let a = a.to(dtype), b = b.to(dtype)
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = batchA == batchB ? batchA : Broadcasting.shape(batchA, batchB, op: "matmul (batch dimensions)")
        var out = Tensor(uninitializedShape: batch + [m, n], dtype: dtype)
        let batchCount = shapeCount(batch)
        let sa = Broadcasting.strides(of: batchA, broadcastTo: batch), sb = Broadcasting.strides(of: batchB, broadcastTo: batch)
        let batchStrides = contiguousStrides(batch)
        for i in 0..<batchCount {
            var oa = 0, ob = 0, rest = i
            for d in 0..<batch.count {
                let coordinate = rest / batchStrides[d]
                rest %= batchStrides[d]
                oa += coordinate * sa[d]
                ob += coordinate * sb[d]
            }
            oa *= ar * ac
            ob *= br * bc
            let oc = i * m * n
            if m == 0 || n == 0 { continue }
            if k == 0 {
                out.fillRange(oc, m * n)
                continue
            }
            switch dtype {
            case .float32: gemm(Float.self, a, b, &out, transposeA: transposeA, transposeB: transposeB,
                                m: m, n: n, k: k, offsets: (oa, ob, oc))
            case .float64: gemm(Double.self, a, b, &out, transposeA: transposeA, transposeB: transposeB,
                                m: m, n: n, k: k, offsets: (oa, ob, oc))
            }
        }
        return out
    }

    /// One matrix of a batched product: `out[oc...] = op(a[oa...]) · op(b[ob...])`.
    private static func gemm<T: TensorScalar>(_: T.Type, _ a: Tensor, _ b: Tensor, _ out: inout Tensor,
                                              transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                              offsets: (a: Int, b: Int, out: Int)) {
        AutoGrad.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                      a.storage.pointer(T.self) + offsets.a, lda: transposeA ? m : k,
                      b.storage.pointer(T.self) + offsets.b, ldb: transposeB ? k : n,
                      beta: 0, out.storage.pointer(T.self) + offsets.out, ldc: n)
    }

    private mutating func fillRange(_ start: Int, _ length: Int) {
        switch dtype {
        case .float32: (storage.pointer(Float.self) + start).update(repeating: 0, count: length)
        case .float64: (storage.pointer(Double.self) + start).update(repeating: 0, count: length)
        }
    }
}
