/// Copies `shape`-many elements between two strided layouts; `accumulate` adds instead of overwriting.
private func stridedCopyTyped<T: TensorScalar>(
    _: T.Type, _ src: UnsafePointer<T>, _ srcStrides: [Int], _ dst: UnsafeMutablePointer<T>, _ dstStrides: [Int],
    _ shape: [Int], accumulate: Bool
) {
    if shapeCount(shape) == 0 { return }
    let (shape, strides) = Broadcasting.coalesce(shape: shape, strides: [srcStrides, dstStrides])
    let n = shape.last!, ss = strides[0].last!, ds = strides[1].last!
    Broadcasting.forEachRow(shape: shape, strides: strides) { _, os, od, _ in
        let s = src + os, d = dst + od
        if accumulate {
            for i in 0..<n { d[i &* ds] += s[i &* ss] }
        } else if ss == 1 && ds == 1 {
            d.update(from: s, count: n)
        } else {
            for i in 0..<n { d[i &* ds] = s[i &* ss] }
        }
    }
}

extension Tensor {
    /// Copies elements of `src` (read at `srcOffset` with `srcStrides`) into `self` (at `dstOffset`, `dstStrides`).
    mutating func copyStrided(from src: Tensor, srcOffset: Int = 0, srcStrides: [Int],
                              dstOffset: Int = 0, dstStrides: [Int], shape: [Int], accumulate: Bool = false) {
        makeUnique()
        let src = src.to(dtype)
        switch dtype {
        case .float32:
            stridedCopyTyped(Float.self, src.storage.pointer(Float.self) + srcOffset, srcStrides,
                             storage.pointer(Float.self) + dstOffset, dstStrides, shape, accumulate: accumulate)
        case .float64:
            stridedCopyTyped(Double.self, src.storage.pointer(Double.self) + srcOffset, srcStrides,
                             storage.pointer(Double.self) + dstOffset, dstStrides, shape, accumulate: accumulate)
        }
    }

    /// The same elements with a new shape; one dimension may be −1 and is inferred. Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var t = self
        t.setShape(Tensor.inferShape(newShape, count: count, op: "reshape", from: shape))
        return t
    }

    static func inferShape(_ newShape: [Int], count: Int, op: String, from shape: [Int]) -> [Int] {
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        precondition(unknown.count <= 1, "\(op): more than one -1 in \(newShape)")
        guard let u = unknown.first else {
            precondition(shapeCount(newShape) == count, "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
            return newShape
        }
        let known = newShape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
        precondition(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        var s = newShape
        s[u] = count / known
        return s
    }

    /// Dimensions reordered: result dimension `i` is this tensor's dimension `axes[i]` (copies).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes.map { normalizeAxis($0, rank: rank, op: "permute") }).count == rank,
                     "permute: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        let axes = axes.map { normalizeAxis($0, rank: rank, op: "permute") }
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let own = contiguousStrides(shape)
        var out = Tensor(uninitializedShape: newShape, dtype: dtype)
        out.copyStrided(from: self, srcStrides: axes.map { own[$0] }, dstStrides: contiguousStrides(newShape), shape: newShape)
        return out
    }

    /// Two dimensions swapped (the last two by default).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(normalizeAxis(axis0, rank: rank, op: "transpose"), normalizeAxis(axis1, rank: rank, op: "transpose"))
        return permuted(perm)
    }

    /// This tensor repeated along broadcast dimensions to `newShape` (NumPy rules; copies).
    public func broadcast(to newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        precondition(Broadcasting.shape(shape, newShape) == newShape, "broadcast: shape \(shape) cannot be broadcast to \(newShape)")
        var out = Tensor(uninitializedShape: newShape, dtype: dtype)
        out.copyStrided(from: self, srcStrides: Broadcasting.strides(of: shape, broadcastTo: newShape),
                        dstStrides: contiguousStrides(newShape), shape: newShape)
        return out
    }

    /// Sums a broadcast result back to `target`, the shape it was broadcast from.
    public func sum(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(Broadcasting.shape(target, shape) == shape, "sum(toShape:): \(target) does not broadcast to \(shape)")
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Size-1 dimensions removed (only `axis` when given).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = normalizeAxis(axis, rank: rank, op: "squeeze")
            precondition(shape[a] == 1, "squeeze: dimension \(axis) of shape \(shape) is not 1")
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// A size-1 dimension inserted at `axis` (−1 appends).
    public func unsqueezed(axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: normalizeAxis(axis, rank: rank + 1, op: "unsqueeze"))
        return reshaped(s)
    }

    /// Elements `start, start + step, …` below `end` along `axis` (like `x.narrow` / `x[..., start:end:step]`).
    public func sliced(axis: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        let geometry = SliceGeometry(shape: shape, axis: axis, start: start, end: end, step: step)
        var out = Tensor(uninitializedShape: geometry.slicedShape, dtype: dtype)
        out.copyStrided(from: self, srcOffset: geometry.offset, srcStrides: geometry.strides,
                        dstStrides: contiguousStrides(geometry.slicedShape), shape: geometry.slicedShape)
        return out
    }

    /// A tensor of `fullShape` that is zero except for `self` placed at the slice `start..<end` by `step` along `axis`
    /// (the adjoint of ``sliced(axis:start:end:step:)``).
    public func unsliced(into fullShape: [Int], axis: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        let geometry = SliceGeometry(shape: fullShape, axis: axis, start: start, end: end, step: step)
        precondition(geometry.slicedShape == shape, "unslice: shape \(shape) does not fit slice \(geometry.slicedShape) of \(fullShape)")
        var out = Tensor.zeros(fullShape, dtype: dtype)
        out.copyStrided(from: self, srcStrides: contiguousStrides(shape), dstOffset: geometry.offset,
                        dstStrides: geometry.strides, shape: shape)
        return out
    }

    /// Tensors joined along an existing `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: needs at least one tensor")
        let first = tensors[0]
        let ax = normalizeAxis(axis, rank: first.rank, op: "concatenate")
        let dtype = tensors.map(\.dtype).reduce(first.dtype, DType.promoted)
        var outShape = first.shape
        outShape[ax] = 0
        for t in tensors {
            precondition(t.rank == first.rank && t.shape.indices.allSatisfy { $0 == ax || t.shape[$0] == first.shape[$0] },
                         "concatenate: shape \(t.shape) does not match \(first.shape) outside axis \(axis)")
            outShape[ax] += t.shape[ax]
        }
        var out = Tensor(uninitializedShape: outShape, dtype: dtype)
        let outStrides = contiguousStrides(outShape)
        var offset = 0
        for t in tensors {
            out.copyStrided(from: t, srcStrides: contiguousStrides(t.shape), dstOffset: offset * outStrides[ax],
                            dstStrides: outStrides, shape: t.shape)
            offset += t.shape[ax]
        }
        return out
    }

    /// Tensors of one shape joined along a new `axis`.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: needs at least one tensor")
        let shape = tensors[0].shape
        for t in tensors { precondition(t.shape == shape, "stack: shapes \(shape) and \(t.shape) differ") }
        let ax = normalizeAxis(axis, rank: shape.count + 1, op: "stack")
        return concatenate(tensors.map { $0.unsqueezed(axis: ax) }, axis: ax)
    }

    /// Constant padding: `padding[i] = (before, after)` elements added on each side of dimension `i`
    /// (leading dimensions without an entry are not padded).
    public func padded(_ padding: [(before: Int, after: Int)], value: Double = 0) -> Tensor {
        precondition(padding.count <= rank, "pad: \(padding.count) paddings for shape \(shape)")
        let pads = [(before: Int, after: Int)](repeating: (0, 0), count: rank - padding.count) + padding
        for p in pads { precondition(p.before >= 0 && p.after >= 0, "pad: negative padding \(padding)") }
        let outShape = zip(shape, pads).map { $0 + $1.before + $1.after }
        var out = Tensor.full(outShape, value, dtype: dtype)
        let outStrides = contiguousStrides(outShape)
        let offset = zip(pads, outStrides).reduce(0) { $0 + $1.0.before * $1.1 }
        out.copyStrided(from: self, srcStrides: contiguousStrides(shape), dstOffset: offset, dstStrides: outStrides, shape: shape)
        return out
    }
}

/// Where a slice `start..<end` by `step` along one axis sits in a contiguous tensor.
struct SliceGeometry {
    let slicedShape: [Int]
    let offset: Int
    let strides: [Int]

    init(shape: [Int], axis: Int, start: Int, end: Int, step: Int) {
        let ax = normalizeAxis(axis, rank: shape.count, op: "slice")
        precondition(step > 0, "slice: step must be positive, got \(step)")
        precondition(start >= 0 && start <= end && end <= shape[ax],
                     "slice: range \(start)..<\(end) out of bounds for dimension \(axis) of shape \(shape)")
        var s = shape
        s[ax] = (end - start + step - 1) / step
        var st = contiguousStrides(shape)
        offset = start * st[ax]
        st[ax] *= step
        slicedShape = s
        strides = st
    }
}
