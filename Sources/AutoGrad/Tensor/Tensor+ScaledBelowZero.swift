extension Tensor {
    /// `self · (selector > 0 ? 1 : slope)` elementwise, in one pass (the kernel of leaky ReLU and of the
    /// ReLU gradient). A NaN selector takes the `slope` factor.
    ///
    /// - Precondition: `selector` has this tensor's shape.
    func scaledBelowZero(selector: Tensor, slope: Double) -> Tensor {
        precondition(selector.shape == shape,
                     "scaledBelowZero: value \(shape) and selector \(selector.shape) must have the same shape")
        let dtype = DType.promoted(self.dtype, selector.dtype)
        let value = to(dtype), selector = selector.to(dtype)
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        func run<T: TensorScalar>(_: T.Type) {
            let (v, s, y, factor) = (value.storage.pointer(T.self), selector.storage.pointer(T.self),
                                     out.storage.pointer(T.self), T(slope))
            Parallel.forEachPart(count, work: count) { part in
                for i in part { y[i] = v[i] * (s[i] > 0 ? 1 : factor) }
            }
        }
        switch dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
        return out
    }
}
