// Views of a typed buffer as another element type, for the calls into C (BLAS, CKernels) that take
// `float *` or `double *` from kernels generic over `T: TensorScalar`, where `T` is known only at run time.
// The caller has checked that `T` is the type asked for; the memory is bound to it at allocation.

extension UnsafePointer {
    @inline(__always)
    func reinterpreted<U>(as _: U.Type) -> UnsafePointer<U> { UnsafeRawPointer(self).assumingMemoryBound(to: U.self) }
}

extension UnsafeMutablePointer {
    @inline(__always)
    func reinterpreted<U>(as _: U.Type) -> UnsafeMutablePointer<U> {
        UnsafeMutableRawPointer(self).assumingMemoryBound(to: U.self)
    }
}
