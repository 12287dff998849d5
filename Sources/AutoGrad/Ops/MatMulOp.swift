/// `op(a) · op(b)` with `op` the identity or the transpose of the last two dimensions.
///
/// For `C = A·B`: ∂/∂A = g·Bᵀ and ∂/∂B = Aᵀ·g. The transposes stay BLAS flags, and the rules for the
/// transposed variants are again matrix products of this op, so every order of derivative works.
struct MatMul: Op {
    let transposeA: Bool, transposeB: Bool
    func forward(_ x: [Tensor]) -> Tensor { Tensor.matmul(x[0], x[1], transposeA: transposeA, transposeB: transposeB) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// Computes only the products for the needed operands: `g·Bᵀ` when A's gradient is needed, `Aᵀ·g` when B's is.
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (a, b) = (inputs[0], inputs[1])
        precondition(a.rank >= 2 && b.rank >= 2, "MatMul backward: vector operands are reshaped before recording")
        var ga: Variable? = nil, gb: Variable? = nil
        if needed[0] {
            ga = transposeA ? MatMul(transposeA: transposeB, transposeB: true)(b, g)
                            : MatMul(transposeA: false, transposeB: !transposeB)(g, b)
        }
        if needed[1] {
            gb = transposeB ? MatMul(transposeA: true, transposeB: transposeA)(g, a)
                            : MatMul(transposeA: !transposeA, transposeB: false)(a, g)
        }
        return [ga, gb]
    }
}
