import Testing
@testable import NN

// BatchNorm's moments kernel (CKernels' ck_channel_moments_f32), the row normalisation kernels (ck_row_norm_*), GELU (ck_gelu_*), the LSTM gates (ck_lstm_gates_f32) and the
// static int8 convolution (ck_gemm_u8s8s32) at every instruction-set level this process has; a level the CPU lacks, or that AUTOGRAD_ISA caps away, is skipped with the reason.

/// The Float BatchNorm checks, run with the kernels capped at `level`.
private func checkBatchNormKernels(at level: InstructionSet) {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        let tests = BatchNormOpTests()
        tests.forwardMatchesTheComposedFormulaAndKeepsTheStatistics(dtype: .float32)
        tests.fusedBackwardMatchesTheComposedGradients(dtype: .float32)
        tests.floatStatisticsStayAccurateFarFromZero()
    }
}

@Suite struct BatchNormKernelLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkBatchNormKernels(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkBatchNormKernels(at: .avx2) }

    @Test func generic() { checkBatchNormKernels(at: .generic) }
}

/// The Float LayerNorm / RMSNorm checks, run with the kernels capped at `level`.
private func checkRowNormKernels(at level: InstructionSet) {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        let tests = RowNormalizationTests()
        tests.forwardMatchesTheComposedFormula(dtype: .float32)
        tests.fusedBackwardMatchesTheComposedGradients(dtype: .float32)
        tests.floatStatisticsStayAccurateFarFromZero()
        tests.floatStatisticsStayAccurateWhenTheFirstElementIsAnOutlier()
        tests.floatParameterGradientsAreTheSameWithOrWithoutTheInputGradient()
        tests.floatParameterGradientsDoNotDependOnHowTheWorkIsSplit()
        tests.rmsNormDefaultEpsIsTheDtypesMachineEpsilon()
    }
}

@Suite struct RowNormKernelLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkRowNormKernels(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkRowNormKernels(at: .avx2) }

    @Test func generic() { checkRowNormKernels(at: .generic) }
}

/// The Float GELU kernels against the Double op, run with the kernels capped at `level`.
private func checkGELUKernels(at level: InstructionSet) {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        let tests = GELUTests()
        tests.floatKernelsMatchTheDoubleOp()
        tests.knownValuesInFloat()
        tests.nonFiniteInputs()
        tests.threadedSplitMatchesSmallCalls()
    }
}

@Suite struct GELUKernelLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkGELUKernels(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkGELUKernels(at: .avx2) }

    @Test func generic() { checkGELUKernels(at: .generic) }
}

/// The Float LSTM gate arithmetic against Double, run with the kernels capped at `level`.
private func checkLSTMGateKernels(at level: InstructionSet) {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        LSTMGateTests().floatGatesMatchDouble()
        LSTMGateTests().gateFunctionsAreWithinTwoAndAHalfUlp()
    }
}

@Suite struct LSTMGateKernelLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkLSTMGateKernels(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkLSTMGateKernels(at: .avx2) }

    @Test func generic() { checkLSTMGateKernels(at: .generic) }
}

/// The static int8 convolution (CKernels' ck_gemm_u8s8s32 at each level's depth step) against plain integer loops,
/// and its dequantisation into planes (ck_dequantize_planes_s32) against the row-major Swift loop, run with the
/// kernels capped at `level`.
private func checkInt8Convolution(at level: InstructionSet) {
    InstructionSet.withCap(level) {
        #expect(InstructionSet.active == level)
        let tests = StaticQuantizationTests()
        tests.integerSumsMatchThePlainLoop()
        tests.outputIsTheDequantisedSum()
        tests.planesMatchTheRowMajorDequantisation()
    }
}

@Suite struct Int8ConvolutionLevelTests {
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512() { checkInt8Convolution(at: .avx512) }

    @Test(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx2() { checkInt8Convolution(at: .avx2) }

    @Test func generic() { checkInt8Convolution(at: .generic) }

    /// The AVX-512 level's vpmaddwd route, which a CPU without VNNI runs, on this CPU too.
    @Test(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
    func avx512WithoutVNNI() {
        InstructionSet.withoutVNNI {
            #expect(!InstructionSet.vnniActive)
            checkInt8Convolution(at: .avx512)
        }
    }
}
