// Generic kernels that hand their Float case to CKernels check `S.self == Float.self`, then pass their pointers on as
// Float pointers.

/// `p` as a Float pointer; only where the caller checked that `S` is Float.
@inline(__always)
func floats<S>(_ p: UnsafePointer<S>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }

/// `p` as a mutable Float pointer; only where the caller checked that `S` is Float.
@inline(__always)
func floats<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}
