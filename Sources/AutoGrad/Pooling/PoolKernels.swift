// The numeric kernels of 2-D pooling: typed loops over raw pointers, one plane (`H × W`) at a time,
// dispatched once on the dtype. Window bounds come from `PoolWindows` and are already clipped to the
// input, so no kernel tests for padding per element.

/// For each window, the flat in-plane index `h·W + w` of its maximum: the first one in row-major order
/// (a later element wins only if strictly larger), or the last NaN, as PyTorch's CPU kernel does.
private func windowArgmaxTyped<T: TensorScalar>(_: T.Type, _ x: UnsafePointer<T>, _ w: PoolWindows,
                                                _ indices: UnsafeMutablePointer<Int>) {
    let (width, outWidth, outHeight) = (w.width, w.outWidth, w.outHeight)
    if let (sh, sw) = w.unclippedStrides(kernel: (2, 2)) {
        argmax2x2(x, w, strides: (sh, sw), indices)
        return
    }
    // Window bounds as raw pointers: array accesses in this loop cost more than the comparisons.
    w.rowStart.withUnsafeBufferPointer { rowStart in
    w.rowEnd.withUnsafeBufferPointer { rowEnd in
    w.colStart.withUnsafeBufferPointer { colStart in
    w.colEnd.withUnsafeBufferPointer { colEnd in
        for p in 0..<w.planes {
            let plane = x + p &* w.inputPlane
            let out = indices + p &* w.outputPlane
            for i in 0..<outHeight {
                let h0 = rowStart[i], h1 = rowEnd[i]
                for j in 0..<outWidth {
                    let w0 = colStart[j], w1 = colEnd[j]
                    var best = -T.infinity
                    var bestIndex = h0 &* width &+ w0
                    var h = h0
                    while h < h1 {
                        let row = plane + h &* width
                        var c = w0
                        while c < w1 {
                            let v = row[c]
                            if v > best || v.isNaN {
                                best = v
                                bestIndex = h &* width &+ c
                            }
                            c &+= 1
                        }
                        h &+= 1
                    }
                    out[i &* outWidth &+ j] = bestIndex
                }
            }
        }
    }
    }
    }
    }
}

/// ``windowArgmaxTyped(_:_:_:_:)`` for 2×2 windows that padding never clips (the common `MaxPool2d(2)`):
/// the four comparisons unrolled, with the same rule (first maximum wins, a NaN replaces the best).
private func argmax2x2<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: PoolWindows, strides: (Int, Int),
                                        _ indices: UnsafeMutablePointer<Int>) {
    let (width, outWidth, outHeight) = (w.width, w.outWidth, w.outHeight)
    let (sh, sw) = strides
    let (rowOffset, colOffset) = (w.rowStart[0], w.colStart[0])
    for p in 0..<w.planes {
        let plane = x + p &* w.inputPlane
        let out = indices + p &* w.outputPlane
        for i in 0..<outHeight {
            let top = rowOffset &+ i &* sh
            let (base0, base1) = (top &* width, (top &+ 1) &* width)
            let (r0, r1) = (plane + base0, plane + base1)
            for j in 0..<outWidth {
                let c = colOffset &+ j &* sw
                var best = r0[c], index = base0 &+ c
                let v1 = r0[c &+ 1]
                if v1 > best || v1 != v1 { best = v1; index = base0 &+ c &+ 1 }
                let v2 = r1[c]
                if v2 > best || v2 != v2 { best = v2; index = base1 &+ c }
                let v3 = r1[c &+ 1]
                if v3 > best || v3 != v3 { index = base1 &+ c &+ 1 }
                out[i &* outWidth &+ j] = index
            }
        }
    }
}

/// `y[p, k] = x[p, indices[p, k]]` (gather) or `x[p, indices[p, k]] += y[p, k]` (scatter) per plane `p`.
private func planeMoveTyped<T: TensorScalar>(_: T.Type, x: UnsafeMutablePointer<T>, inputPlane: Int,
                                             y: UnsafeMutablePointer<T>, indices: UnsafeBufferPointer<Int>,
                                             outputPlane: Int, scatter: Bool) {
    guard outputPlane > 0 else { return }
    let planes = indices.count / outputPlane
    for p in 0..<planes {
        let xp = x + p &* inputPlane, yp = y + p &* outputPlane
        let ip = indices.baseAddress! + p &* outputPlane
        if scatter {
            for k in 0..<outputPlane { xp[ip[k]] += yp[k] }
        } else {
            for k in 0..<outputPlane { yp[k] = xp[ip[k]] }
        }
    }
}

/// Window averages `y = Σ_window x / divisor` (`adjoint == false`), or the adjoint
/// `x[window] += y / divisor` into a zeroed `x` (`adjoint == true`).
private func windowAverageTyped<T: TensorScalar>(_: T.Type, x: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>,
                                                 _ w: PoolWindows, adjoint: Bool) {
    let width = w.width
    for p in 0..<w.planes {
        let plane = x + p &* w.inputPlane
        let out = y + p &* w.outputPlane
        for i in 0..<w.outHeight {
            let h0 = w.rowStart[i], h1 = w.rowEnd[i]
            for j in 0..<w.outWidth {
                let w0 = w.colStart[j], w1 = w.colEnd[j]
                let divisor = T(w.divisor(i, j))
                let k = i &* w.outWidth &+ j
                if adjoint {
                    let share = out[k] / divisor
                    for h in h0..<h1 {
                        let row = plane + h &* width
                        for c in w0..<w1 { row[c] += share }
                    }
                } else {
                    var sum: T = 0
                    for h in h0..<h1 {
                        let row = plane + h &* width
                        for c in w0..<w1 { sum += row[c] }
                    }
                    out[k] = sum / divisor
                }
            }
        }
    }
}

extension Tensor {
    private func checkPoolInput(_ w: PoolWindows) {
        precondition(shape == w.inputShape, "\(w.opName): input of shape \(shape), expected \(w.inputShape)")
    }

    /// The in-plane index of each window's maximum, shaped like the output (PyTorch's `return_indices`).
    func windowArgmax(_ w: PoolWindows) -> TensorIndices {
        checkPoolInput(w)
        var indices = [Int](repeating: 0, count: shapeCount(w.outputShape))
        indices.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            switch dtype {
            case .float32: windowArgmaxTyped(Float.self, storage.pointer(Float.self), w, base)
            case .float64: windowArgmaxTyped(Double.self, storage.pointer(Double.self), w, base)
            }
        }
        return TensorIndices(shape: w.outputShape, values: indices)
    }

    /// `out[…, k] = self[…, indices[…, k]]` with the last two dimensions of both sides flattened
    /// (an in-plane gather); the result has `indices.shape`.
    func planeGathered(_ indices: TensorIndices) -> Tensor {
        precondition(rank >= 2 && indices.shape.count == rank && Array(indices.shape.dropLast(2)) == Array(shape.dropLast(2)),
                     "MaxPool2d: indices of shape \(indices.shape) do not fit an input of shape \(shape)")
        let inputPlane = shape[rank - 2] * shape[rank - 1]
        let outputPlane = indices.shape[rank - 2] * indices.shape[rank - 1]
        precondition(indices.values.allSatisfy { $0 >= 0 && $0 < inputPlane },
                     "MaxPool2d: an index is outside the \(shape[rank - 2])×\(shape[rank - 1]) plane of input \(shape)")
        let out = Tensor(uninitializedShape: indices.shape, dtype: dtype)
        indices.values.withUnsafeBufferPointer { idx in
            switch dtype {
            case .float32:
                planeMoveTyped(Float.self, x: storage.pointer(Float.self), inputPlane: inputPlane, y: out.storage.pointer(Float.self),
                               indices: idx, outputPlane: outputPlane, scatter: false)
            case .float64:
                planeMoveTyped(Double.self, x: storage.pointer(Double.self), inputPlane: inputPlane, y: out.storage.pointer(Double.self),
                               indices: idx, outputPlane: outputPlane, scatter: false)
            }
        }
        return out
    }

    /// The adjoint of ``planeGathered(_:)``: zeros of `shape` with `self` (shaped like `indices`) added at
    /// the in-plane `indices`; repeated indices accumulate.
    func planeScatteredAdd(into shape: [Int], indices: TensorIndices) -> Tensor {
        precondition(self.shape == indices.shape, "MaxPool2dBackward: gradient of shape \(self.shape) differs from indices \(indices.shape)")
        precondition(shape.count == rank && Array(shape.dropLast(2)) == Array(self.shape.dropLast(2)),
                     "MaxPool2dBackward: gradient of shape \(self.shape) does not fit an input of shape \(shape)")
        let inputPlane = shape[rank - 2] * shape[rank - 1]
        let outputPlane = self.shape[rank - 2] * self.shape[rank - 1]
        precondition(indices.values.allSatisfy { $0 >= 0 && $0 < inputPlane },
                     "MaxPool2dBackward: an index is outside the plane of input \(shape)")
        let out = Tensor.zeros(shape, dtype: dtype)
        indices.values.withUnsafeBufferPointer { idx in
            switch dtype {
            case .float32:
                planeMoveTyped(Float.self, x: out.storage.pointer(Float.self), inputPlane: inputPlane, y: storage.pointer(Float.self),
                               indices: idx, outputPlane: outputPlane, scatter: true)
            case .float64:
                planeMoveTyped(Double.self, x: out.storage.pointer(Double.self), inputPlane: inputPlane, y: storage.pointer(Double.self),
                               indices: idx, outputPlane: outputPlane, scatter: true)
            }
        }
        return out
    }

    /// The average of each window: `out[…, i, j] = Σ_window self / divisor(i, j)`.
    func windowAveraged(_ w: PoolWindows) -> Tensor {
        checkPoolInput(w)
        let out = Tensor(uninitializedShape: w.outputShape, dtype: dtype)
        switch dtype {
        case .float32: windowAverageTyped(Float.self, x: storage.pointer(Float.self), y: out.storage.pointer(Float.self), w, adjoint: false)
        case .float64: windowAverageTyped(Double.self, x: storage.pointer(Double.self), y: out.storage.pointer(Double.self), w, adjoint: false)
        }
        return out
    }

    /// The adjoint of ``windowAveraged(_:)``: `self` (shaped like the output) spread evenly back over each
    /// window, `out[window(i, j)] += self[i, j] / divisor(i, j)`, into zeros of the input's shape.
    func windowAverageAdjoint(_ w: PoolWindows) -> Tensor {
        precondition(shape == w.outputShape, "\(w.opName)Backward: gradient of shape \(shape), expected \(w.outputShape)")
        let out = Tensor.zeros(w.inputShape, dtype: dtype)
        switch dtype {
        case .float32: windowAverageTyped(Float.self, x: out.storage.pointer(Float.self), y: storage.pointer(Float.self), w, adjoint: true)
        case .float64: windowAverageTyped(Double.self, x: out.storage.pointer(Double.self), y: storage.pointer(Double.self), w, adjoint: true)
        }
        return out
    }
}
