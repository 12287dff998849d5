/// Which matrix norm ``Tensor/matrixNorm(_:)`` computes.
public enum MatrixNorm: Sendable {
    /// `‖A‖_F = √(Σᵢⱼ Aᵢⱼ²)`.
    case frobenius
    /// `‖A‖_* = Σ sᵢ`, the sum of the singular values.
    case nuclear
    /// `‖A‖₂ = max sᵢ`, the largest singular value.
    case spectral
}

/// `‖A‖_F` over the last two dimensions.  Adjoint: `Ā = ḡ·A/‖A‖_F`, and 0 at `A = 0` (PyTorch's choice
/// at the kink). Differentiable again away from 0.
struct FrobeniusNorm: Op {
    var name: String { "frobenius" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].squared().sum(axes: [-2, -1]).sqrt() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let zero = Variable(output.value .== 0)
        let scale = (g * (1 - zero) / (output + zero)).unsqueezed(axis: -1).unsqueezed(axis: -1)
        return [inputs[0] * scale]
    }
}

extension Tensor {
    /// The trace `Σᵢ Aᵢᵢ` of each matrix: `[..., m, n] → [...]` (the sum of the `min(m, n)` diagonal elements).
    public func trace() -> Tensor { diagonal().sum(axes: [-1]) }

    /// A matrix norm over the last two dimensions (PyTorch's `torch.linalg.matrix_norm` with `'fro'`, `'nuc'`, `2`):
    /// `[..., m, n] → [...]`. The nuclear and spectral norms go through the singular values (LAPACK `gesdd`).
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`) from the SVD; never for `.frobenius`.
    public func matrixNorm(_ kind: MatrixNorm = .frobenius) throws -> Tensor {
        switch kind {
        case .frobenius:
            _ = MatrixBatch(shape, op: "matrixNorm")
            return FrobeniusNorm().forward([self])
        case .nuclear: return try singularValues().sum(axes: [-1])
        case .spectral: return try singularValues().max(axes: [-1])
        }
    }
}

extension Variable {
    /// The trace `Σᵢ Aᵢᵢ`, `[..., m, n] → [...]`.  Gradient: `Ā = ḡ·I` (the diagonal of zeros filled with ḡ).
    public func trace() -> Variable { diagonal().sum(axes: [-1]) }

    /// A matrix norm over the last two dimensions; see ``Tensor/matrixNorm(_:)``.
    ///
    /// Gradients: Frobenius `Ā = ḡ·A/‖A‖_F` (0 at `A = 0`); nuclear `Ā = ḡ·U·Vᵀ` (from the SVD; at zero
    /// singular values this is one valid subgradient); spectral `Ā = ḡ·u₁·v₁ᵀ`, split equally between
    /// tied largest singular values (as ``max(axes:keepDims:)`` splits ties). All differentiable again
    /// where the singular values are distinct.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`) from the SVD; never for `.frobenius`.
    public func matrixNorm(_ kind: MatrixNorm = .frobenius) throws -> Variable {
        switch kind {
        case .frobenius:
            _ = MatrixBatch(shape, op: "matrixNorm")
            return FrobeniusNorm()(self)
        case .nuclear: return try singularValues().sum(axes: [-1])
        case .spectral: return try singularValues().max(axes: [-1])
        }
    }
}
