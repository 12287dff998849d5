import CKernels

/// An instruction-set level of swift-autograd's own kernels: every kernel (products, transposes, im2col and
/// col2im, BatchNorm's moments, pooling, optimiser loops) exists at each level, and the one in use is decided
/// in one place (CKernels' `cpu.c`).
///
/// The level in use is the CPU's highest (``supported``), capped for the whole process by the environment
/// variable `AUTOGRAD_ISA` (`avx512`, `avx2` or `generic`; ``available``) and for a scope by
/// ``withCap(_:_:)``. A cap never raises the level: an AVX2 CPU runs AVX2 kernels whatever is asked.
///
/// ```swift
/// print(InstructionSet.active)                 // "avx2" on an AVX2 laptop
/// InstructionSet.withCap(.generic) {           // the portable kernels, e.g. to compare results
///     _ = Tensor.matmul(x, w)
/// }
/// ```
public enum InstructionSet: Int, Comparable, CaseIterable, CustomStringConvertible, Sendable {
    /// Portable C that the compiler vectorises for the build's target (SSE2 on x86-64, NEON on aarch64).
    case generic = 0
    /// AVX2 with FMA (Intel since Haswell, AMD since Zen).
    case avx2 = 1
    /// AVX-512 Foundation, Byte/Word, Doubleword/Quadword and Vector Length (Intel Skylake-SP, AMD Zen 4).
    case avx512 = 2

    /// The name `AUTOGRAD_ISA` takes: `"generic"`, `"avx2"` or `"avx512"`.
    public var description: String { String(cString: ck_isa_name(Int32(rawValue))) }

    /// The level named `name` (any case), as `AUTOGRAD_ISA` takes it; nil for an unknown name.
    public init?(name: String) {
        let level = ck_isa_parse(name)
        guard level >= 0, let value = InstructionSet(rawValue: Int(level)) else { return nil }
        self = value
    }

    public static func < (lhs: InstructionSet, rhs: InstructionSet) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The highest level this CPU runs.
    public static var supported: InstructionSet { level(ck_isa_supported()) }

    /// The highest level this process uses: ``supported`` capped by `AUTOGRAD_ISA`.
    public static var available: InstructionSet { level(ck_isa_available()) }

    /// The level the calling thread's kernels run at now.
    public static var active: InstructionSet { level(ck_isa_active()) }

    /// Runs `body` with the kernels capped at `cap` on this thread and on the pool threads that run its parallel
    /// parts, then restores the previous cap. Caps nest: the lower one holds, and a cap at or above ``available``
    /// changes nothing.
    public static func withCap<Result>(_ cap: InstructionSet, _ body: () throws -> Result) rethrows -> Result {
        let current = ck_isa_thread_cap()
        let previous = ck_isa_set_thread_cap(current >= 0 ? Swift.min(current, Int32(cap.rawValue)) : Int32(cap.rawValue))
        defer { ck_isa_set_thread_cap(previous) }
        return try body()
    }

    /// Whether the 8-bit integer product runs its AVX-512 VNNI kernel (vpdpbusd) on this thread: the AVX-512 level is
    /// active, the CPU has VNNI, and ``withoutVNNI(_:)`` has not turned it off.
    public static var vnniActive: Bool { ck_gemm_u8s8s32_uses_vnni() != 0 }

    /// Runs `body` with the 8-bit product's VNNI kernel off on this thread and on the pool threads that run its
    /// parallel parts, so the AVX-512 level takes its vpmaddwd route as on a CPU without VNNI, then restores the
    /// previous setting. Changes nothing below AVX-512 or on a CPU without VNNI.
    public static func withoutVNNI<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = ck_vnni_set_thread_disabled(1)
        defer { ck_vnni_set_thread_disabled(previous) }
        return try body()
    }

    /// A one-line description for logs and benchmark headers, e.g. `"avx2 (CPU: avx512, AUTOGRAD_ISA=avx2)"`.
    public static var summary: String {
        let active = InstructionSet.active, cpu = supported
        guard active != cpu else { return "\(active)" }
        return "\(active) (CPU: \(cpu), capped by " + (available < cpu ? "AUTOGRAD_ISA=\(available))" : "this thread)")
    }

    private static func level(_ value: Int32) -> InstructionSet { InstructionSet(rawValue: Int(value)) ?? .generic }
}
