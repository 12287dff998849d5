import AutoGrad

/// Knowledge distillation's loss (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"), in
/// the form PyTorch's tutorials and most code use:
///
///     ℓ = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y)
///
/// with `s` the student's logits, `t` the teacher's, `y` the labels, the divergence per sample averaged over the
/// batch (`kl_div(..., reduction="batchmean")`) and the cross-entropy averaged too. The soft term's gradient scales
/// as 1/T², so the factor T² keeps the two terms' relative weight when T changes, as the paper prescribes.
///
/// Gradients: `∂ℓ/∂s = α·T·(softmax(s/T) − softmax(t/T))/B + (1 − α)·(softmax(s) − onehot(y))/B` for a batch of B;
/// the teacher's logits get the gradient of the soft term too, so pass them detached (or computed without
/// recording) to keep the teacher fixed. Differentiable again.
///
/// Shapes: `student` and `teacher` are `[batch, classes]`, `targets` has `batch` labels; the result is a scalar.
///
/// ```swift
/// let loss = distillationLoss(student(x), teacher(x).detach(), labels, temperature: 4, alpha: 0.9)
/// ```
///
/// - Precondition: equal rank-2 shapes, `temperature > 0`, `0 ≤ alpha ≤ 1`.
public func distillationLoss(_ student: Variable, _ teacher: Variable, _ targets: [Int], temperature: Double = 4,
                             alpha: Double = 0.9) -> Variable {
    precondition(student.rank == 2 && student.shape == teacher.shape,
                 "distillationLoss: student \(student.shape) and teacher \(teacher.shape) logits must be equal [batch, classes] shapes")
    precondition(temperature > 0 && temperature.isFinite, "distillationLoss: temperature \(temperature) must be positive")
    precondition((0...1).contains(alpha), "distillationLoss: alpha \(alpha) is not in [0, 1]")
    let scale = 1 / temperature
    let soft = klDiv((student * scale).logSoftmax(axis: 1), (teacher * scale).logSoftmax(axis: 1),
                     reduction: .batchMean, logTarget: true)
    return soft * (alpha * temperature * temperature) + crossEntropy(student, targets) * (1 - alpha)
}
