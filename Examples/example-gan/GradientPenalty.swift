import NN

/// WGAN-GP's gradient penalty (Gulrajani et al. 2017): `λ · mean over samples of (‖∇ₓ̂ D(x̂)‖₂ − 1)²` at
/// `x̂ = ε·real + (1 − ε)·fake`, one `ε ~ U[0, 1]` per sample.
///
/// The input gradient is taken with `createGraph: true`, so the returned penalty is differentiable
/// with respect to the critic's parameters (a second-order gradient through the critic).
///
/// - Parameters:
///   - critic: maps images `[N, …]` to scores `[N, 1]` (or `[N]`); it must treat samples independently.
///   - real, fake: images of one shape `[N, …]`; no gradient flows into them.
///   - epsilon: the mixing weights, shape `[N, 1, …, 1]` (rank of the images) with values in [0, 1].
///   - weight: λ (10 in the paper).
/// - Returns: a scalar Variable.
func gradientPenalty(critic: (Variable) -> Variable, real: Tensor, fake: Tensor, epsilon: Tensor,
                     weight: Double = 10) -> Variable {
    precondition(real.shape == fake.shape && real.rank >= 2,
                 "gradientPenalty: real \(real.shape) and fake \(fake.shape) must be batches of one shape")
    precondition(epsilon.shape == [real.shape[0]] + Array(repeating: 1, count: real.rank - 1),
                 "gradientPenalty: epsilon \(epsilon.shape) must be [N, 1, …] for images \(real.shape)")
    let interpolates = Variable(epsilon * real + (1 - epsilon) * fake, requiresGrad: true)
    let scores = critic(interpolates)
    let inputGradient = Graph.gradients(of: scores.sum(), withRespectTo: [interpolates], createGraph: true)[0]
    // A tiny constant keeps the square root differentiable where the gradient vanishes.
    let norms = (inputGradient.reshaped([real.shape[0], -1]).squared().sum(axes: [1]) + 1e-12).sqrt()
    return (norms - 1).squared().mean() * weight
}
