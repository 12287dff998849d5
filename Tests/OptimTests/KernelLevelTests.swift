import Testing
@testable import Optim

// The Adam kernels (CKernels' ck_adam_f32/f64) at every instruction-set level this process has; a level the CPU
// lacks, or that AUTOGRAD_ISA caps away, is skipped with the reason. Their contraction is off, so every level
// rounds alike: the trajectories must be identical, not merely close.

/// Ten AMSGrad-with-decay steps in Float and Double at `level`, as raw values.
private func adamTrajectories(at level: InstructionSet) -> [[Double]] {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        return [DType.float32, .float64].flatMap { dtype in
            let p = startParameter(dtype: dtype)
            return trajectory(Adam([p], learningRate: 0.05, weightDecay: 0.1, amsgrad: true), p, steps: 10)
        }
    }
}

/// The Float Adam checks against the published rule at `level`, and trajectories identical to the generic level's.
private func checkAdamKernels(at level: InstructionSet) {
    InstructionSet.withCap(level) { AdamTests().float32Parameters() }
    #expect(adamTrajectories(at: level) == adamTrajectories(at: .generic))
}

@Suite struct AdamKernelLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkAdamKernels(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkAdamKernels(at: .avx2) }

    @Test func generic() { checkAdamKernels(at: .generic) }
}
