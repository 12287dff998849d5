import CKernels
import Testing
@testable import AutoGrad

// CKernels' routes at each instruction-set level in one process: each check runs with the thread (and the pool
// threads that run its parts) capped at the level. A level this CPU lacks, or that AUTOGRAD_ISA caps away, is
// skipped with the reason. The rest of the suite runs at the process's level; .ci/run runs it once per level.

/// A kernel check that runs at the calling thread's instruction-set level.
enum KernelCheck: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case products, int8Products, packedProducts, gatheredProducts, transposes, productRoute, convolutionRoutes, maxPooling, attentionRows

    var testDescription: String { rawValue }

    /// Runs the check with the kernels capped at `level`, which must be available.
    func run(at level: InstructionSet) {
        InstructionSet.withCap(level) {
            #expect(InstructionSet.active == level, "\(self): asked for \(level), running at \(InstructionSet.active)")
            switch self {
            case .products: ProductKernelTests.everyProductMatchesTheTripleLoop()
            case .int8Products:
                // The VNNI kernel runs in the AVX-512 level only where the CPU has VNNI; say which one ran. Where it
                // does, the vpmaddwd kernel runs too, with VNNI turned off.
                if level == .avx512 && !InstructionSet.vnniActive {
                    print("note: no AVX-512 VNNI on this CPU: the AVX-512 level ran the vpmaddwd kernel")
                }
                Int8ProductKernelTests.productsMatchTheIntegerLoop()
                Int8ProductKernelTests.sevenBitProductsMatchTheIntegerLoop()
                InstructionSet.withoutVNNI {
                    // Without VNNI, a depth past the outer products pads to 32 bytes (AVX2, AVX-512) instead of 64.
                    #expect(!InstructionSet.vnniActive && ck_gemm_u8s8s32_padded_depth(17) == (level == .generic ? 17 : 32))
                    Int8ProductKernelTests.productsMatchTheIntegerLoop()
                    Int8ProductKernelTests.sevenBitProductsMatchTheIntegerLoop()
                }
            case .packedProducts:
                for transposeA in [false, true] { ProductKernelTests.largeUntransposedProductPacks(transposeA: transposeA) }
            case .gatheredProducts: ProductKernelTests.gatheredProductMatchesTheTripleLoop()
            case .transposes: ProductKernelTests.transposeMatrixMatchesTheDefinition()
            case .productRoute: ProductKernelTests.routeFollowsTheLevelAndOpenBLASKernels()
            case .convolutionRoutes: ConvolutionTests.everyRouteMatchesDouble()
            case .maxPooling:
                let tests = MaxPoolKernelTests()
                tests.everyKernelKeepsTheFirstTieAndTheLastNaN()
                tests.handCheckedTiesAndNaNsOnEachKernel()
                tests.largeInputsSplitOverThreadsAgreeWithTheNaiveLoops()
            case .attentionRows:
                AttentionKernelTests.exponentialsMatchLibm()
                AttentionKernelTests.softmaxStepKeepsTheRunningState()
                AttentionKernelTests.aNaNScoreMakesOnlyItsRowNaN()
                AttentionKernelTests.floatAttentionMatchesDouble()
            }
        }
    }
}

@Suite(.enabled(if: InstructionSet.available >= .avx512, "no AVX-512 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
struct AVX512KernelTests {
    @Test(arguments: KernelCheck.allCases) func check(_ check: KernelCheck) { check.run(at: .avx512) }
}

@Suite(.enabled(if: InstructionSet.available >= .avx2, "no AVX2 level here: the CPU lacks it or AUTOGRAD_ISA caps it"))
struct AVX2KernelTests {
    @Test(arguments: KernelCheck.allCases) func check(_ check: KernelCheck) { check.run(at: .avx2) }
}

@Suite struct GenericKernelTests {
    @Test(arguments: KernelCheck.allCases) func check(_ check: KernelCheck) { check.run(at: .generic) }
}

@Suite struct InstructionSetTests {
    @Test func levelsAreOrderedAndCapped() {
        #expect(InstructionSet.generic < .avx2 && InstructionSet.avx2 < .avx512)
        #expect(InstructionSet.active <= InstructionSet.available && InstructionSet.available <= InstructionSet.supported)
        for level in InstructionSet.allCases {
            InstructionSet.withCap(level) {
                #expect(InstructionSet.active == Swift.min(level, InstructionSet.available))
                // A cap above the one in force changes nothing; the inner scope restores the outer cap.
                InstructionSet.withCap(.avx512) { #expect(InstructionSet.active == Swift.min(level, InstructionSet.available)) }
                #expect(InstructionSet.active == Swift.min(level, InstructionSet.available))
            }
        }
        #expect(InstructionSet.active == InstructionSet.available)
    }

    @Test func namesRoundTripAndUnknownNamesAreNil() {
        for level in InstructionSet.allCases {
            #expect(InstructionSet(name: level.description) == level)
            #expect(InstructionSet(name: level.description.uppercased()) == level)
        }
        #expect(["generic", "avx2", "avx512"] == InstructionSet.allCases.map(\.description))
        #expect(InstructionSet(name: "sse4") == nil && InstructionSet(name: "") == nil)
    }

    /// The pool's threads run a job's parts under the submitting thread's cap, and drop it afterwards.
    @Test func poolThreadsTakeTheSubmittersCap() {
        let previous = BLAS.threadCount
        BLAS.threadCount = 2
        defer { BLAS.threadCount = previous }
        InstructionSet.withCap(.generic) {
            var seen = [InstructionSet](repeating: .avx512, count: 2)
            seen.withUnsafeMutableBufferPointer { levels in
                ThreadPool.shared.run(parts: 2) { part in levels[part] = InstructionSet.active }
            }
            #expect(seen == [.generic, .generic])
        }
        var seen = [InstructionSet](repeating: .generic, count: 2)
        seen.withUnsafeMutableBufferPointer { levels in
            ThreadPool.shared.run(parts: 2) { part in levels[part] = InstructionSet.active }
        }
        #expect(seen == [InstructionSet.available, InstructionSet.available])
    }
}
