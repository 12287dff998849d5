import CKernels

// The numeric kernels of 2-D pooling: typed loops over raw pointers, one plane (`H × W`) at a time,
// dispatched once on the dtype; planes are independent, so large inputs are split over threads by plane.
// Window bounds come from `PoolWindows` and are already clipped to the input, so no kernel tests for
// padding per element.
//
// Which element of a window is its maximum is as good as random on real activations, so the max
// kernels choose without branches (compare and select): a branch on it would mispredict about half
// the time.

/// Whether `v` replaces `best` while scanning a window in row-major order: it is strictly larger (so the
/// first of tied maxima stays), or it is NaN (so a NaN propagates, and a later NaN replaces an earlier
/// one, as in PyTorch's CPU kernel). `(v > best) != v.isNaN` is `v > best || v.isNaN` (the two cannot
/// both hold) without the short circuit, so both sides are computed and no branch is emitted.
@inline(__always)
private func replacesMaximum<T: TensorScalar>(_ v: T, _ best: T) -> Bool { (v > best) != (v != v) }

/// Runs `body` over parts of the planes `0..<w.planes`, on several threads when the planes hold enough
/// elements in all.
@inline(__always)
private func forEachPlanes(_ w: PoolWindows, _ body: (Range<Int>) -> Void) {
    Parallel.forEachPart(w.planes, work: w.planes &* w.inputPlane, body)
}

/// For each window of the planes in `part`, its maximum into `values` and, when `indices` is given, the
/// flat in-plane index `h·W + w` of that maximum (the first in row-major order, or the last NaN).
private func windowMaxTyped<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: PoolWindows, planes part: Range<Int>,
                                             _ values: UnsafeMutablePointer<T>, _ indices: UnsafeMutablePointer<Int>?) {
    guard let (kernelWidth, stride, padding) = w.columnPlacement else { preconditionFailure("\(w.opName): max pooling needs sliding windows") }
    // Constant column strides let the loops over a row of windows vectorise; without a vector select the
    // compiler would turn each scalar select on T back into a branch.
    if let (sh, sw) = w.unclippedStrides(kernel: (2, 2)) {
        if T.self == Float.self, sh == 2, sw == 2, w.rowStart[0] == 0, w.colStart[0] == 0,
           ck_max_pool_2x2_f32((x + part.lowerBound &* w.inputPlane).reinterpreted(as: Float.self),
                               part.count, w.height, w.width, w.outHeight, w.outWidth,
                               (values + part.lowerBound &* w.outputPlane).reinterpreted(as: Float.self),
                               indices.map { ($0 + part.lowerBound &* w.outputPlane).reinterpreted(as: Int64.self) }) != 0 {
            return   // MaxPool2d(2) in CKernels, a vector of windows at a time
        }
        switch (sw, indices) {
        case (2, let indices?): max2x2(x, w, part, rowStride: sh, columnStride: 2, values, indices)
        case (2, nil): max2x2(x, w, part, rowStride: sh, columnStride: 2, values, nil)
        case (1, let indices?): max2x2(x, w, part, rowStride: sh, columnStride: 1, values, indices)
        default: max2x2(x, w, part, rowStride: sh, columnStride: sw, values, indices)
        }
        return
    }
    guard stride != 1 else {
        if let indices {
            windowMaxRows(x, w, part, kernelWidth: kernelWidth, padding: padding, values, indices)
        } else {
            windowMaxRows(x, w, part, kernelWidth: kernelWidth, padding: padding, values, nil)
        }
        return
    }
    // Other strides read every s-th column; LLVM's cost model (SSE2) rejects vectorising that, so each
    // window is scanned on its own.
    let (width, outWidth) = (w.width, w.outWidth)
    w.rowStart.withUnsafeBufferPointer { rowStart in
    w.rowEnd.withUnsafeBufferPointer { rowEnd in
    w.colStart.withUnsafeBufferPointer { colStart in
    w.colEnd.withUnsafeBufferPointer { colEnd in
        for p in part {
            let plane = x + p &* w.inputPlane
            for i in 0..<w.outHeight {
                let k = (p &* w.outHeight &+ i) &* outWidth
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
                            let take = replacesMaximum(v, best)
                            best = take ? v : best
                            bestIndex = take ? h &* width &+ c : bestIndex
                            c &+= 1
                        }
                        h &+= 1
                    }
                    values[k &+ j] = best
                    indices?[k &+ j] = bestIndex
                }
            }
        }
    }
    }
    }
    }
}

/// ``windowMaxTyped(_:_:planes:_:_:)`` for sliding windows at column stride 1, a row of windows at a time:
/// the output row holds the running maxima, and each element offset `(h, b)` of the windows, taken in
/// row-major order, updates every window of the row that contains it (window `j` reads column
/// `j − p + b`). Each window thus sees its elements in row-major order, and the loop over `j` has no
/// dependence between iterations, so it vectorises. Inlined so that `indices == nil` specialises it.
@inline(__always)
private func windowMaxRows<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: PoolWindows, _ part: Range<Int>,
                                            kernelWidth: Int, padding: Int,
                                            _ values: UnsafeMutablePointer<T>, _ indices: UnsafeMutablePointer<Int>?) {
    let (width, outWidth, outHeight) = (w.width, w.outWidth, w.outHeight)
    // The windows whose column `j − p + b` lies in 0..<W are `windowsReading[b]`.
    let windowsReading = (0..<kernelWidth).map { b -> Range<Int> in
        let first = Swift.min(outWidth, Swift.max(0, padding - b))
        return first..<Swift.max(first, Swift.min(outWidth, width + padding - b))
    }
    w.rowStart.withUnsafeBufferPointer { rowStart in
    w.rowEnd.withUnsafeBufferPointer { rowEnd in
    w.colStart.withUnsafeBufferPointer { colStart in
        for p in part {
            let plane = x + p &* w.inputPlane
            for i in 0..<outHeight {
                let k = (p &* outHeight &+ i) &* outWidth
                let (vo, io) = (values + k, indices.map { $0 + k })
                let (h0, h1) = (rowStart[i], rowEnd[i])
                for j in 0..<outWidth { vo[j] = -T.infinity }
                if let io { for j in 0..<outWidth { io[j] = h0 &* width &+ colStart[j] } }
                for h in h0..<h1 {
                    let row = plane + h &* width
                    for b in 0..<kernelWidth {
                        // Window j reads column j + shift, at position h·W + j + shift of the plane.
                        let shift = b &- padding, at = h &* width &+ shift
                        for j in windowsReading[b] {
                            let (v, best) = (row[j &+ shift], vo[j])
                            let take = replacesMaximum(v, best)
                            vo[j] = take ? v : best
                            if let io {
                                // A select written as masks: as `take ? … : io[j]` LLVM makes it a
                                // conditional store, and then declines to vectorise the loop.
                                let mask = take ? ~0 : 0
                                io[j] = (at &+ j) & mask | io[j] & ~mask
                            }
                        }
                    }
                }
            }
        }
    }
    }
    }
}

/// ``windowMaxTyped(_:_:planes:_:_:)`` for 2×2 windows that padding never clips (the common
/// `MaxPool2d(2)`): the four elements compared in row-major order with the same rule, branch-free, so
/// that the loop over a row of windows vectorises. Inlined so that a constant `columnStride` and a
/// constant `indices == nil` specialise it.
@inline(__always)
private func max2x2<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: PoolWindows, _ part: Range<Int>,
                                     rowStride sh: Int, columnStride sw: Int,
                                     _ values: UnsafeMutablePointer<T>, _ indices: UnsafeMutablePointer<Int>?) {
    let (width, outWidth, outHeight) = (w.width, w.outWidth, w.outHeight)
    let (rowOffset, colOffset) = (w.rowStart[0], w.colStart[0])
    for p in part {
        let plane = x + p &* w.inputPlane
        for i in 0..<outHeight {
            let top = rowOffset &+ i &* sh
            let base0 = top &* width &+ colOffset
            let (r0, r1) = (plane + base0, plane + (base0 &+ width))
            let k = (p &* outHeight &+ i) &* outWidth
            let (vo, io) = (values + k, indices.map { $0 + k })
            for j in 0..<outWidth {
                let c = j &* sw
                var best = r0[c], offset = 0
                let v1 = r0[c &+ 1]
                var take = replacesMaximum(v1, best)
                best = take ? v1 : best
                offset = take ? 1 : offset
                let v2 = r1[c]
                take = replacesMaximum(v2, best)
                best = take ? v2 : best
                offset = take ? width : offset
                let v3 = r1[c &+ 1]
                take = replacesMaximum(v3, best)
                best = take ? v3 : best
                offset = take ? width &+ 1 : offset
                vo[j] = best
                io?[j] = base0 &+ c &+ offset
            }
        }
    }
}

/// `y[p, k] = x[p, indices[p, k]]` per plane `p` of the planes in `part`.
private func planeGatherTyped<T: TensorScalar>(_ x: UnsafePointer<T>, inputPlane: Int, _ y: UnsafeMutablePointer<T>,
                                               _ indices: UnsafePointer<Int>, outputPlane: Int, planes part: Range<Int>) {
    for p in part {
        let xp = x + p &* inputPlane, yp = y + p &* outputPlane, ip = indices + p &* outputPlane
        for k in 0..<outputPlane { yp[k] = xp[ip[k]] }
    }
}

/// Max pooling's backward for the planes in `part`: `x[p, indices[p, k]] += g[p, k]` into zeros.
///
/// For `MaxPool2d(2)` (2×2 windows at stride 2, which never overlap) the input is written in one sweep,
/// two rows at a time: zeros, then each window's gradient stored (not added) where its index points.
/// Other windows zero a plane and scatter-add into it while it is in cache. The indices came from
/// ``windowMaxTyped(_:_:planes:_:_:)`` on the same windows; still, an index outside its window (or plane)
/// traps rather than losing a gradient or writing out of bounds.
private func maxPoolAdjointTyped<T: TensorScalar>(_ g: UnsafePointer<T>, _ indices: UnsafePointer<Int>, _ w: PoolWindows,
                                                  planes part: Range<Int>, into x: UnsafeMutablePointer<T>) {
    let (width, outWidth, outHeight) = (w.width, w.outWidth, w.outHeight)
    guard let (sh, sw) = w.unclippedStrides(kernel: (2, 2)), sh == 2, sw == 2, w.rowStart[0] == 0, w.colStart[0] == 0 else {
        for p in part {
            let xp = x + p &* w.inputPlane, gp = g + p &* w.outputPlane, ip = indices + p &* w.outputPlane
            xp.update(repeating: 0, count: w.inputPlane)
            for k in 0..<w.outputPlane {
                precondition(ip[k] >= 0 && ip[k] < w.inputPlane, "\(w.opName)Backward: index \(ip[k]) is outside the plane of input \(w.inputShape)")
                xp[ip[k]] += gp[k]
            }
        }
        return
    }
    // The windows tile the plane but for an odd last row or column, which get zeros.
    var found = 0   // indices found inside their window
    for p in part {
        let xp = x + p &* w.inputPlane
        for i in 0..<outHeight {
            let top = 2 &* i &* width
            let k = (p &* outHeight &+ i) &* outWidth
            found &+= maxPool2x2AdjointRow(g + k, indices + k, outWidth, xp + top, rowStart: top, width: width)
        }
        (xp + 2 &* outHeight &* width).update(repeating: 0, count: (w.height &- 2 &* outHeight) &* width)
    }
    let outside = part.count &* w.outputPlane &- found
    precondition(outside == 0, "\(w.opName)Backward: \(outside) of the indices of planes \(part) are not inside their window of input \(w.inputShape)")
}

/// One row of `MaxPool2d(2)`'s backward: the two input rows at `rows` (starting at in-plane position
/// `rowStart`) under windows `0..<count` are zeroed, then get `g[j]` where `indices[j]` points; the rows
/// stay in cache between the two steps. Returns how many indices lie inside their window;
/// the gradient of one that does not lands on its window's first element instead of out of bounds.
@inline(__always)
private func maxPool2x2AdjointRow<T: TensorScalar>(_ g: UnsafePointer<T>, _ indices: UnsafePointer<Int>, _ count: Int,
                                                   _ rows: UnsafeMutablePointer<T>, rowStart: Int, width: Int) -> Int {
    rows.update(repeating: 0, count: 2 &* width)
    var found = 0
    for j in 0..<count {
        let c = 2 &* j
        let at = indices[j] &- rowStart &- c   // 0 or 1 in the top row, W or W + 1 in the bottom one
        // Exclusive cases (W ≥ 2), so `!=` is `||`, without the branch that `||` compiles to.
        let inside = (UInt(bitPattern: at) < 2) != (UInt(bitPattern: at &- width) < 2)
        found &+= inside ? 1 : 0
        rows[inside ? at &+ c : c] = g[j]
    }
    return found
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

    /// The maximum of each window and, when `withIndices`, the in-plane index `h·W + w` of that maximum
    /// (PyTorch's `return_indices`), both shaped like the output, found in one pass over the input.
    /// Among equal maxima the first in row-major order is chosen; a NaN is the maximum of its window
    /// (the last NaN when there are several).
    func windowMax(_ w: PoolWindows, withIndices: Bool = true) -> (values: Tensor, indices: TensorIndices?) {
        checkPoolInput(w)
        let values = Tensor(uninitializedShape: w.outputShape, dtype: dtype)
        func run<T: TensorScalar>(_: T.Type, _ indices: UnsafeMutablePointer<Int>?) {
            let (x, y) = (UnsafePointer(storage.pointer(T.self)), values.storage.pointer(T.self))
            forEachPlanes(w) { windowMaxTyped(x, w, planes: $0, y, indices) }
        }
        func run(_ indices: UnsafeMutablePointer<Int>?) {
            switch dtype {
            case .float32: run(Float.self, indices)
            case .float64: run(Double.self, indices)
            }
        }
        guard withIndices else {
            run(nil)
            return (values, nil)
        }
        let count = shapeCount(w.outputShape)
        let indices = [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
            run(buffer.baseAddress)
            initialized = count
        }
        return (values, TensorIndices(shape: w.outputShape, values: indices))
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
        guard indices.values.count > 0 else { return out }
        let planes = indices.values.count / outputPlane
        func run<T: TensorScalar>(_: T.Type, _ idx: UnsafePointer<Int>) {
            let (x, y) = (UnsafePointer(storage.pointer(T.self)), out.storage.pointer(T.self))
            Parallel.forEachPart(planes, work: indices.values.count) {
                planeGatherTyped(x, inputPlane: inputPlane, y, idx, outputPlane: outputPlane, planes: $0)
            }
        }
        indices.values.withUnsafeBufferPointer { idx in
            switch dtype {
            case .float32: run(Float.self, idx.baseAddress!)
            case .float64: run(Double.self, idx.baseAddress!)
            }
        }
        return out
    }

    /// The adjoint of max pooling over `w` with the argmax positions `indices` (from ``windowMax(_:withIndices:)``
    /// on the same windows): zeros of the input's shape with `self` (shaped like the output) added at the
    /// in-plane `indices`; an input that is the maximum of several overlapping windows collects all their
    /// gradients.
    func maxPoolAdjoint(_ w: PoolWindows, indices: TensorIndices) -> Tensor {
        precondition(shape == w.outputShape && indices.shape == w.outputShape,
                     "\(w.opName)Backward: gradient of shape \(shape) and indices of shape \(indices.shape), expected \(w.outputShape)")
        let out = Tensor(uninitializedShape: w.inputShape, dtype: dtype)
        guard w.planes > 0 else { return out }
        func run<T: TensorScalar>(_: T.Type, _ idx: UnsafePointer<Int>) {
            let (g, x) = (UnsafePointer(storage.pointer(T.self)), out.storage.pointer(T.self))
            forEachPlanes(w) { maxPoolAdjointTyped(g, idx, w, planes: $0, into: x) }
        }
        indices.values.withUnsafeBufferPointer { idx in
            switch dtype {
            case .float32: run(Float.self, idx.baseAddress!)
            case .float64: run(Double.self, idx.baseAddress!)
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
