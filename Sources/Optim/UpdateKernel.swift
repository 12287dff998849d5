/// The elementwise update of one optimizer, written once for both element types.
///
/// ``applyKernel(_:to:gradient:state:)`` dispatches on the dtype once per parameter and calls
/// ``update(parameter:gradient:state:)`` with `T` known, so the loop is specialised for `Float`
/// and `Double` and runs over raw buffers.
protocol UpdateKernel {
    /// Updates `parameter` and the `state` buffers (all of the parameter's length) from `gradient`.
    func update<T: TensorScalar>(parameter: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
                                 state: [UnsafeMutableBufferPointer<T>])
}

/// Runs `kernel` on a parameter, its gradient and its state tensors, in place.
func applyKernel<K: UpdateKernel>(_ kernel: K, to parameter: inout Tensor, gradient: Tensor, state: inout [Tensor]) {
    switch parameter.dtype {
    case .float32: applyKernel(kernel, as: Float.self, to: &parameter, gradient: gradient, state: &state)
    case .float64: applyKernel(kernel, as: Double.self, to: &parameter, gradient: gradient, state: &state)
    }
}

private func applyKernel<K: UpdateKernel, T: TensorScalar>(
    _ kernel: K, as type: T.Type, to parameter: inout Tensor, gradient: Tensor, state: inout [Tensor]
) {
    parameter.withUnsafeMutableBufferPointer(as: T.self) { p in
        gradient.withUnsafeBufferPointer(as: T.self) { g in
            state.withUnsafeMutableBufferPointer { tensors in
                withMutableBuffers(tensors, as: T.self, from: 0, collected: []) { buffers in
                    // Elements update independently, so a large parameter is split over the BLAS threads.
                    Parallel.forEachPart(p.count, work: p.count * (2 + buffers.count)) { part in
                        kernel.update(parameter: UnsafeMutableBufferPointer(rebasing: p[part]),
                                      gradient: UnsafeBufferPointer(rebasing: g[part]),
                                      state: buffers.map { UnsafeMutableBufferPointer(rebasing: $0[part]) })
                    }
                }
            }
        }
    }
}

/// Calls `body` with mutable element buffers of `tensors[start...]` appended to `collected`.
private func withMutableBuffers<T: TensorScalar>(
    _ tensors: UnsafeMutableBufferPointer<Tensor>, as type: T.Type, from start: Int,
    collected: [UnsafeMutableBufferPointer<T>], _ body: ([UnsafeMutableBufferPointer<T>]) -> Void
) {
    if start == tensors.count { return body(collected) }
    tensors[start].withUnsafeMutableBufferPointer(as: T.self) { buffer in
        withMutableBuffers(tensors, as: T.self, from: start + 1, collected: collected + [buffer], body)
    }
}

/// `x`, or 0 when `x` is subnormal.
///
/// State that decays geometrically (Adam's moments, momentum buffers, RMSProp's averages) reaches
/// subnormal numbers for parameters whose gradient stays exactly 0 — the weights of Fashion-MNIST's
/// always-black border pixels, for one — and subnormal arithmetic is about 100× slower on x86:
/// example-mlp's steps took twice as long from its second epoch on, Adam's update a quarter of the run.
/// Values below the smallest normal number (1.2e-38 in Float) move a parameter by nothing measurable.
@inline(__always)
func flushSubnormal<T: TensorScalar>(_ x: T) -> T {
    Swift.abs(x) < T.leastNormalMagnitude ? 0 : x
}
