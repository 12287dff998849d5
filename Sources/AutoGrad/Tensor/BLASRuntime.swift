import CKernels
import COpenBLAS
import Foundation

/// Settings of the OpenBLAS library behind matrix products.
///
/// Debian's OpenBLAS 0.3.21 does not recognise some AVX-512 CPUs and falls back to its AVX2
/// ("Haswell") kernels, about half as fast. The first matrix product therefore calls
/// ``preferAVX512Kernels()``: when the CPU reports AVX-512 (F, BW, DQ, VL), `AUTOGRAD_ISA` does not cap
/// the process below it, OpenBLAS chose an AVX2 core, and the user did not set `OPENBLAS_CORETYPE`,
/// OpenBLAS is asked to choose again with `OPENBLAS_CORETYPE=SkylakeX`.
///
/// Small Float products (below 2²⁷ multiply-adds with B untransposed, and weight gradients' A·Bᵀ with a
/// long inner dimension) run swift-autograd's own kernel (CKernels' `ck_sgemm`, at the active
/// ``InstructionSet``), which computes them without packing and so faster than OpenBLAS, which packs every
/// product. The large ones go to OpenBLAS, except on an AVX-512 level where OpenBLAS runs AVX2 kernels all the
/// same (an `OPENBLAS_CORETYPE` set in the environment, or a build without the entry points): there every
/// product runs `ck_sgemm`. Set `AUTOGRAD_KEEP_BLAS_CORE=1` to keep OpenBLAS's own choice of kernels and send
/// every product to OpenBLAS.
public enum BLAS {
    /// The kernel family OpenBLAS uses, e.g. `"Haswell"` or `"SkylakeX"`.
    public static var coreName: String {
        _ = prepared
        return loadedCoreName
    }

    private static var loadedCoreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Which code computes Float matrix products on this thread, e.g. `"AutoGrad avx512"` or
    /// `"AutoGrad avx2 (small, weight-gradient) + OpenBLAS Zen"` (see the type's overview).
    public static var floatProductKernels: String {
        let level = InstructionSet.active
        switch floatProductRoute {
        case .own: return "AutoGrad \(level)"
        case .ownUnpacked: return "AutoGrad \(level) (small, weight-gradient) + OpenBLAS \(coreName)"
        case .openBLAS: return "OpenBLAS \(coreName)"
        }
    }

    /// Where Float products go.
    enum FloatProductRoute {
        /// Every product to CKernels' `ck_sgemm` (an AVX-512 level while OpenBLAS runs AVX2 kernels).
        case own
        /// The products `ck_sgemm` computes without packing to it, the others to OpenBLAS.
        case ownUnpacked
        /// Every product to OpenBLAS (`AUTOGRAD_KEEP_BLAS_CORE` set).
        case openBLAS
    }

    /// Where Float products go at the calling thread's instruction-set level.
    static var floatProductRoute: FloatProductRoute {
        if keepsOpenBLASCore { return .openBLAS }
        return InstructionSet.active == .avx512 && openBLASRunsAVX2 ? .own : .ownUnpacked
    }

    /// Whether `AUTOGRAD_KEEP_BLAS_CORE` is set (read once).
    private static let keepsOpenBLASCore = ProcessInfo.processInfo.environment["AUTOGRAD_KEEP_BLAS_CORE"] != nil

    /// Whether OpenBLAS runs AVX2 (or older) kernels, decided after it chose them.
    private static let openBLASRunsAVX2: Bool = {
        _ = prepared
        return avx2Cores.contains(loadedCoreName)
    }()

    /// Whether this Float product runs `ck_sgemm` (see ``floatProductRoute``).
    @inline(__always)
    static func runsOwnFloatKernel(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int) -> Bool {
        switch floatProductRoute {
        case .own: return true
        case .ownUnpacked: return ck_sgemm_packs(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k) == 0
        case .openBLAS: return false
        }
    }

    /// The number of threads a matrix product, a convolution or a large elementwise loop uses.
    ///
    /// Defaults to the thread count OpenBLAS chose at load (`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS`,
    /// or one per core). The threads are swift-autograd's own (see ``Parallel``): OpenBLAS itself runs
    /// one thread per call, and products are split into column or row blocks over the threads.
    /// Setting it waits for a running split loop to finish, so set it between computations, never
    /// from inside the body of a ``Parallel/forEachPart(_:work:_:)`` loop. More than ``maximumThreadCount``
    /// is capped there, with a warning on standard error: threads past the cores only take turns (a GAN step
    /// with 1,000 threads on 2 cores ran 130 times slower) and each holds a stack.
    public static var threadCount: Int {
        get {
            _ = prepared
            return ThreadPool.shared.threadCount
        }
        set {
            _ = prepared
            precondition(newValue >= 1, "BLAS.threadCount: must be at least 1, got \(newValue)")
            var count = newValue
            if count > maximumThreadCount {
                FileHandle.standardError.write(Data(("warning: BLAS.threadCount \(count) is more than 4 threads per core; "
                    + "using \(maximumThreadCount)\n").utf8))
                count = maximumThreadCount
            }
            ThreadPool.shared.resize(threads: count)
        }
    }

    /// The most threads ``threadCount`` takes: four per core this process may run on.
    public static var maximumThreadCount: Int { 4 * Swift.max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Whether this CPU can run OpenBLAS's SkylakeX (AVX-512) kernels: the AVX-512 level of
    /// ``InstructionSet/supported`` (F, BW, DQ and VL).
    public static var cpuHasAVX512: Bool { InstructionSet.supported == .avx512 }

    private static let avx2Cores: Set<String> = ["Haswell", "Zen", "Sandybridge", "Prescott", "Nehalem"]

    /// Switches OpenBLAS to its AVX-512 kernels when that is safe and faster (see the type's overview).
    ///
    /// - Returns: whether the kernels were switched.
    @discardableResult
    public static func preferAVX512Kernels() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["AUTOGRAD_KEEP_BLAS_CORE"] == nil,
              avx2Cores.contains(loadedCoreName), InstructionSet.available == .avx512 else { return false }
        // Internal OpenBLAS entry points (exported by Debian's dynamic-arch build): look them up
        // rather than link them, so a build without them still works and simply keeps its kernels.
        guard let handle = dlopen(nil, RTLD_NOW),
              let quit = dlsym(handle, "gotoblas_dynamic_quit"),
              let initialize = dlsym(handle, "gotoblas_dynamic_init") else { return false }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialize, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return loadedCoreName == "SkylakeX"
    }

    /// Runs once, before the first product: ``preferAVX512Kernels()``, then hands OpenBLAS's thread
    /// count to the thread pool and limits OpenBLAS to one thread per call. Returns whether the
    /// kernels were switched.
    static let prepared: Bool = {
        let switched = preferAVX512Kernels()
        let threads = Swift.max(1, Int(openblas_get_num_threads()))
        openblas_set_num_threads(1)
        stopIdleOpenBLASThreads()
        ThreadPool.shared.resize(threads: threads)
        return switched
    }()

    /// Ends the worker threads OpenBLAS started at load, which no product here uses: each spins for
    /// about 0.1 s before it sleeps, taking a core from the pool's threads meanwhile. OpenBLAS starts
    /// them again by itself if someone raises its thread count (`openblas_set_num_threads`). Looked up
    /// at run time like the core switch: a build without the entry point keeps its threads.
    private static func stopIdleOpenBLASThreads() {
        guard let handle = dlopen(nil, RTLD_NOW), let shutdown = dlsym(handle, "blas_thread_shutdown_") else { return }
        typealias Entry = @convention(c) () -> Int32
        _ = unsafeBitCast(shutdown, to: Entry.self)()
    }
}
