extension Variable {
    /// `x·Wᵀ + b` over the last dimension of `x` (PyTorch's `torch.nn.functional.linear`).
    ///
    /// Shapes: `x` `[..., in]` (rank ≥ 1), `weight` `[out, in]`, `bias` `[out]` → `[..., out]`. With a bias the rows
    /// run as one op that writes the bias into the output and adds the product to it, so the output is written once
    /// (a product followed by a broadcast addition reads and writes it a second time). ∂/∂x = g·W, ∂/∂W = gᵀ·x,
    /// ∂/∂b = Σ over rows of g: matrix products and a sum, so every order of derivative works.
    public static func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) -> Variable {
        precondition(weight.rank == 2, "linear: weight must be [out, in], got shape \(weight.shape)")
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        precondition(x.rank >= 1 && x.shape.last == inFeatures,
                     "linear: input of shape \(x.shape) does not end in the weight's in-features \(inFeatures) (weight \(weight.shape))")
        guard let bias else { return matmul(x, weight, transposeB: true) }
        precondition(bias.shape == [outFeatures], "linear: bias of shape \(bias.shape) is not [\(outFeatures)] (weight \(weight.shape))")
        let rows = x.shape.dropLast().reduce(1, *)
        return LinearOp()(x.reshaped([rows, inFeatures]), weight, bias).reshaped(Array(x.shape.dropLast()) + [outFeatures])
    }
}

/// `y = x·Wᵀ + b` for rows `x` `[n, in]`, `W` `[out, in]` and `b` `[out]` (``Variable/linear(_:weight:bias:)``).
struct LinearOp: Op {
    func forward(_ inputs: [Tensor]) -> Tensor {
        let dtype = DType.promoted(DType.promoted(inputs[0].dtype, inputs[1].dtype), inputs[2].dtype)
        let (x, w, b) = (inputs[0].to(dtype), inputs[1].to(dtype), inputs[2].to(dtype))
        let (n, k, m) = (x.shape[0], x.shape[1], w.shape[0])
        var out = Tensor(uninitializedShape: [n, m], dtype: dtype)
        switch dtype {
        case .float32: Self.rowsPlusProduct(Float.self, x, w, b, &out, n: n, k: k, m: m)
        case .float64: Self.rowsPlusProduct(Double.self, x, w, b, &out, n: n, k: k, m: m)
        }
        return out
    }

    /// Every row of `out` set to `b`, then `x·Wᵀ` added (β = 1).
    private static func rowsPlusProduct<T: TensorScalar>(_: T.Type, _ x: Tensor, _ w: Tensor, _ b: Tensor, _ out: inout Tensor,
                                                         n: Int, k: Int, m: Int) {
        let pb = b.storage.pointer(T.self), po = out.storage.pointer(T.self)
        Parallel.forEachPart(n, work: n * m) { rows in
            for row in rows { (po + row * m).update(from: pb, count: m) }
        }
        // No inner dimension: the output is the bias rows (and BLAS refuses a leading dimension of 0).
        guard n > 0, m > 0, k > 0 else { return }
        gemm(transposeA: false, transposeB: true, m: n, n: m, k: k, x.storage.pointer(T.self), lda: k,
             w.storage.pointer(T.self), ldb: k, beta: 1, po, ldc: m)
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (x, w) = (inputs[0], inputs[1])
        return [needed[0] ? Variable.matmul(g, w) : nil,
                needed[1] ? Variable.matmul(g, x, transposeA: true) : nil,
                needed[2] ? g.sum(axes: [0]) : nil]
    }
}
