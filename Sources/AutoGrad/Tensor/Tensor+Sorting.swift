// Sorting along one axis: sort, topk, and max/min with the index they came from.
//
// Order rule shared by all of them (PyTorch's): NaN counts as larger than every number, +∞ included, so an
// ascending sort puts NaNs last, a descending sort and `topk(largest: true)` put them first, and `max`/`min`
// with indices pick a NaN when there is one. Equal values (NaNs among themselves, and −0 with +0) keep their
// original order: the sort is always stable, and ties in topk/max/min go to the lowest index.

extension Tensor {
    /// The `k` largest (or smallest) elements along `axis` and their positions (PyTorch's `topk`).
    ///
    /// Shapes: `[..., n, ...] → [..., k, ...]` for both results (the `axis` dimension becomes `k`); a
    /// scalar counts as one element along axis 0 or −1 and gives itself (for k 0 too, as PyTorch). Order: by value, largest first when
    /// `largest` (NaN above every number), ties by lower index first; with `sorted: false` the result is still in
    /// that order (PyTorch leaves it unspecified).
    /// - Precondition: `0 ≤ k ≤ n`; otherwise the program stops naming the op, `k` and the shape.
    public func topk(k: Int, axis: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: TensorIndices) {
        let indices = sortingIndices(axis: axis, descending: largest, keep: k, op: "topk")
        return (gatheredSorting(indices, axis: axis), indices)
    }

    /// The elements sorted along `axis` and the position each came from (PyTorch's `sort`):
    /// `values = gathered(axis: axis, indices: indices)`.
    ///
    /// Ascending by default, NaNs last (first when `descending`). The sort is always stable — equal elements keep
    /// their order in both directions — so `stable` (PyTorch's flag) changes nothing and is accepted for parity.
    /// Shapes: both results keep this tensor's shape.
    public func sorted(axis: Int = -1, descending: Bool = false, stable: Bool = false) -> (values: Tensor, indices: TensorIndices) {
        let n = rank == 0 ? 1 : shape[normalizeAxis(axis, rank: rank, op: "sort")]
        let indices = sortingIndices(axis: axis, descending: descending, keep: n, op: "sort")
        return (gatheredSorting(indices, axis: axis), indices)
    }

    /// The largest element along `axis` and its index (PyTorch's `max(dim)`); the first one on ties, a NaN when
    /// the line holds one (the first NaN).
    ///
    /// Shapes: the axis is removed, or kept with size 1 when `keepDims`; a scalar gives itself and index 0.
    /// The reduction without indices is ``max(axes:keepDims:)``.
    /// - Precondition: the axis is not empty.
    public func max(axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: TensorIndices) {
        extremum(axis: axis, keepDims: keepDims, largest: true)
    }

    /// The smallest element along `axis` and its index (PyTorch's `min(dim)`); the first one on ties, a NaN when
    /// the line holds one. Shapes as ``max(axis:keepDims:)``.
    public func min(axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: TensorIndices) {
        extremum(axis: axis, keepDims: keepDims, largest: false)
    }

    private func extremum(axis: Int, keepDims: Bool, largest: Bool) -> (values: Tensor, indices: TensorIndices) {
        let (kept, reduced) = extremumIndices(axis: axis, largest: largest)
        let indices = keepDims ? kept : TensorIndices(shape: reduced, values: kept.values)
        return (gatheredSorting(kept, axis: axis).reshaped(indices.shape), indices)
    }

    /// The positions of the extrema along `axis`, shaped with that axis kept as size 1, and the shape without it.
    func extremumIndices(axis: Int, largest: Bool) -> (kept: TensorIndices, reducedShape: [Int]) {
        let op = largest ? "max" : "min"
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: op)
        if rank == 0 { return (TensorIndices(shape: [], values: [0]), []) }
        precondition(shape[a] > 0, "\(op): cannot reduce over empty axis \(axis) of shape \(shape)")
        let values = count == 0 ? [] : (largest ? argmax(axis: a) : argmin(axis: a))
        return (TensorIndices(shape: Tensor.reducedShape(shape, axes: [a], keepDims: true), values: values),
                Tensor.reducedShape(shape, axes: [a], keepDims: false))
    }

    /// This tensor gathered at sorting `indices` (a scalar tensor as one element along axis 0).
    func gatheredSorting(_ indices: TensorIndices, axis: Int) -> Tensor {
        guard rank == 0 else { return gathered(axis: axis, indices: indices) }
        let flat = TensorIndices(shape: [indices.values.count], values: indices.values)
        return reshaped([1]).gathered(axis: 0, indices: flat).reshaped(indices.shape)
    }

    /// The positions of the first `keep` elements of each line along `axis` in sorted order (ties by index),
    /// with the axis dimension replaced by `keep`.
    func sortingIndices(axis: Int, descending: Bool, keep: Int, op: String) -> TensorIndices {
        let line = rank == 0 ? reshaped([1]) : self
        let a = normalizeAxis(axis, rank: line.rank, op: op)
        let n = line.shape[a]
        precondition(keep >= 0 && keep <= n, "\(op): k \(keep) is outside 0...\(n) for dimension \(axis) of shape \(shape)")
        // A scalar is its own sorted line whatever k (PyTorch returns it for k = 0 too).
        if rank == 0 { return TensorIndices(shape: [], values: [0]) }
        var outShape = line.shape
        outShape[a] = keep
        let (outer, _, inner) = line.blockView(axes: a...a)
        var result = [Int](repeating: 0, count: outer * keep * inner)
        if !result.isEmpty {
            switch dtype {
            case .float32: sortLines(Float.self, line, outer: outer, n: n, inner: inner, keep: keep, descending: descending, into: &result)
            case .float64: sortLines(Double.self, line, outer: outer, n: n, inner: inner, keep: keep, descending: descending, into: &result)
            }
        }
        return TensorIndices(shape: outShape, values: result)
    }
}

/// Orders each line `x[o, :, j]` of `x` seen as `[outer, n, inner]` and writes its first `keep` positions to
/// `result[o, :, j]` (`[outer, keep, inner]`). A small `keep` (topk over a vocabulary) selects through a heap of
/// `keep` positions, O(n log keep), and sorts only those; otherwise the whole line is sorted.
private func sortLines<T: TensorScalar>(_: T.Type, _ x: Tensor, outer: Int, n: Int, inner: Int, keep: Int,
                                        descending: Bool, into result: inout [Int]) {
    let px = UnsafePointer(x.storage.pointer(T.self))
    var keys = [T](repeating: 0, count: n)
    var order = [Int](repeating: 0, count: n)
    let selecting = keep * 8 < n
    for o in 0..<outer {
        for j in 0..<inner {
            let base = px + (o &* n &* inner &+ j)
            for i in 0..<n { keys[i] = base[i &* inner] }
            keys.withUnsafeBufferPointer { k in
                // Whether position a comes before b: NaN above every number; equal keys (NaNs among themselves too)
                // by index, which makes the order total and the sort stable.
                func before(_ a: Int, _ b: Int) -> Bool {
                    let (va, vb) = (k[a], k[b])
                    if va.isNaN || vb.isNaN {
                        if va.isNaN && vb.isNaN { return a < b }
                        return va.isNaN == descending
                    }
                    if va == vb { return a < b }
                    return descending ? va > vb : va < vb
                }
                if selecting {
                    // A later position enters the heap only when strictly before its root (ties keep the earlier
                    // index), tested on the values first: most positions fail that one compare.
                    selectFirst(keep, of: n, before: before, into: &order) { i, root in
                        let (v, r) = (k[i], k[root])
                        return descending ? (v > r || (v.isNaN && !r.isNaN)) : (v < r || (r.isNaN && !v.isNaN))
                    }
                } else {
                    for i in 0..<n { order[i] = i }
                    order.sort(by: before)
                }
            }
            let out = o &* keep &* inner &+ j
            for i in 0..<keep { result[out &+ i &* inner] = order[i] }
        }
    }
}

/// Puts the first `keep` of positions `0..<n` under the total order `before` into `order[0..<keep]`, in order.
///
/// A max-heap (by `before`) of the best `keep` seen so far: its root is the worst of them, replaced whenever a
/// later position comes before it (`entersBefore(i, root)`, which must agree with `before` for `i > root`).
private func selectFirst(_ keep: Int, of n: Int, before: (Int, Int) -> Bool, into order: inout [Int],
                         entersBefore: (Int, Int) -> Bool) {
    guard keep > 0 else { return }
    order.withUnsafeMutableBufferPointer { heap in
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let (l, r) = (2 * i + 1, 2 * i + 2)
                var worst = i
                if l < keep && before(heap[worst], heap[l]) { worst = l }
                if r < keep && before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for i in 0..<keep { heap[i] = i }
        for i in stride(from: keep / 2 - 1, through: 0, by: -1) { siftDown(i) }
        for i in keep..<n where entersBefore(i, heap[0]) {
            heap[0] = i
            siftDown(0)
        }
        var best = UnsafeMutableBufferPointer(rebasing: heap[0..<keep])
        best.sort(by: before)
    }
}
