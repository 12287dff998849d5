/// Moves elements between `x` and `y` where position `p` of `y` (shape `indices.shape`) pairs with the position
/// of `x` equal to `p` except along `axis`, where it is `indices[p]`. `scatter` adds `y` into `x`; otherwise `x` is read into `y`.
private func gatherScatterTyped<T: TensorScalar>(
    _: T.Type, x: UnsafeMutablePointer<T>, xShape: [Int], y: UnsafeMutablePointer<T>,
    indices: TensorIndices, axis: Int, scatter: Bool, op: String
) {
    let n = indices.values.count
    if n == 0 { return }
    let xStrides = contiguousStrides(xShape)
    var walk = xStrides
    walk[axis] = 0
    let axisStride = xStrides[axis], axisSize = xShape[axis]
    let iterShape = indices.shape
    let rowLength = iterShape.last ?? 1
    let lastStride = walk.last ?? 0
    indices.values.withUnsafeBufferPointer { idx in
        Broadcasting.forEachRow(shape: iterShape.isEmpty ? [1] : iterShape, strides: [walk.isEmpty ? [0] : walk]) { row, ox, _, _ in
            for i in 0..<rowLength {
                let k = row &* rowLength &+ i
                let j = idx[k]
                precondition(j >= 0 && j < axisSize, "\(op): index \(j) out of range for dimension \(axis) of size \(axisSize)")
                let xo = ox &+ i &* lastStride &+ j &* axisStride
                if scatter { x[xo] += y[k] } else { y[k] = x[xo] }
            }
        }
    }
}

extension Tensor {
    private func checkIndexShape(_ indices: TensorIndices, axis: Int, op: String) {
        precondition(indices.shape.count == rank,
                     "\(op): indices of shape \(indices.shape) need rank \(rank) to index shape \(shape)")
        for d in 0..<rank where d != axis {
            precondition(indices.shape[d] <= shape[d], "\(op): indices of shape \(indices.shape) exceed shape \(shape) in dimension \(d)")
        }
    }

    /// `out[p] = self[p with dimension axis replaced by indices[p]]` (PyTorch's `gather`). Output shape: `indices.shape`.
    public func gathered(axis: Int, indices: TensorIndices) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank, op: "gather")
        checkIndexShape(indices, axis: ax, op: "gather")
        let out = Tensor(uninitializedShape: indices.shape, dtype: dtype)
        switch dtype {
        case .float32:
            gatherScatterTyped(Float.self, x: storage.pointer(Float.self), xShape: shape, y: out.storage.pointer(Float.self),
                               indices: indices, axis: ax, scatter: false, op: "gather")
        case .float64:
            gatherScatterTyped(Double.self, x: storage.pointer(Double.self), xShape: shape, y: out.storage.pointer(Double.self),
                               indices: indices, axis: ax, scatter: false, op: "gather")
        }
        return out
    }

    /// A zero tensor of `shape` into which `self` (of `indices.shape`) is added at the gathered positions
    /// (PyTorch's `scatter_add`; the adjoint of ``gathered(axis:indices:)``).
    public func scatteredAdd(into shape: [Int], axis: Int, indices: TensorIndices) -> Tensor {
        precondition(indices.shape == self.shape, "scatterAdd: source shape \(self.shape) differs from indices shape \(indices.shape)")
        let out = Tensor.zeros(shape, dtype: dtype)
        let ax = normalizeAxis(axis, rank: shape.count, op: "scatterAdd")
        out.checkIndexShape(indices, axis: ax, op: "scatterAdd")
        switch dtype {
        case .float32:
            gatherScatterTyped(Float.self, x: out.storage.pointer(Float.self), xShape: shape, y: storage.pointer(Float.self),
                               indices: indices, axis: ax, scatter: true, op: "scatterAdd")
        case .float64:
            gatherScatterTyped(Double.self, x: out.storage.pointer(Double.self), xShape: shape, y: storage.pointer(Double.self),
                               indices: indices, axis: ax, scatter: true, op: "scatterAdd")
        }
        return out
    }

    /// The slices at `indices` along `axis`, in that order (PyTorch's `index_select`).
    public func indexSelected(axis: Int, indices: [Int]) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank, op: "indexSelect")
        var outShape = shape
        outShape[ax] = indices.count
        var out = Tensor(uninitializedShape: outShape, dtype: dtype)
        let inner = shape[(ax + 1)...].reduce(1, *), outer = shape[..<ax].reduce(1, *), n = shape[ax]
        let srcStrides = [n * inner, inner, 1], dstStrides = [indices.count * inner, inner, 1]
        for (k, j) in indices.enumerated() {
            precondition(j >= 0 && j < n, "indexSelect: index \(j) out of range for dimension \(axis) of shape \(shape)")
            out.copyStrided(from: self, srcOffset: j * inner, srcStrides: srcStrides,
                            dstOffset: k * inner, dstStrides: dstStrides, shape: [outer, 1, inner])
        }
        return out
    }

    /// A zero tensor of `shape` with the slices of `self` added at `indices` along `axis`
    /// (PyTorch's `index_add`; the adjoint of ``indexSelected(axis:indices:)``).
    public func indexAdded(into shape: [Int], axis: Int, indices: [Int]) -> Tensor {
        let ax = normalizeAxis(axis, rank: shape.count, op: "indexAdd")
        var expected = shape
        expected[ax] = indices.count
        precondition(self.shape == expected, "indexAdd: source shape \(self.shape) does not match \(expected)")
        var out = Tensor.zeros(shape, dtype: dtype)
        let inner = shape[(ax + 1)...].reduce(1, *), outer = shape[..<ax].reduce(1, *), n = shape[ax]
        let dstStrides = [n * inner, inner, 1], srcStrides = [indices.count * inner, inner, 1]
        for (k, j) in indices.enumerated() {
            precondition(j >= 0 && j < n, "indexAdd: index \(j) out of range for dimension \(axis) of shape \(shape)")
            out.copyStrided(from: self, srcOffset: k * inner, srcStrides: srcStrides,
                            dstOffset: j * inner, dstStrides: dstStrides, shape: [outer, 1, inner], accumulate: true)
        }
        return out
    }
}
