/// Shape rules and strided iteration shared by every elementwise, reduction and copy kernel.
package enum Broadcasting {
    /// The NumPy broadcast of two shapes, or nil when they are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// The broadcast of two shapes; traps naming the op and both shapes when they are incompatible.
    package static func shape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        guard let s = shape(a, b) else {
            preconditionFailure("\(op): shapes \(a) and \(b) cannot be broadcast together")
        }
        return s
    }

    /// Strides that read a tensor of shape `shape` as if it had shape `target` (0 on broadcast dimensions).
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        let offset = target.count - shape.count
        precondition(offset >= 0, "broadcast: shape \(shape) has more dimensions than \(target)")
        let own = contiguousStrides(shape)
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 || target[i + offset] == 1 {
            precondition(shape[i] == target[i + offset] || shape[i] == 1,
                         "broadcast: shape \(shape) cannot be broadcast to \(target)")
            out[i + offset] = shape[i] == 1 ? 0 : own[i]
        }
        return out
    }

    /// Merges adjacent dimensions that are contiguous for every operand, so loops run longer rows.
    static func coalesce(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var outShape: [Int] = []
        var outStrides: [[Int]] = strides.map { _ in [] }
        for d in 0..<shape.count {
            if shape[d] == 1 { continue }
            if let last = outShape.last,
               strides.indices.allSatisfy({ strides[$0][d] * shape[d] == outStrides[$0].last! }) {
                outShape[outShape.count - 1] = last * shape[d]
                for k in strides.indices { outStrides[k][outStrides[k].count - 1] = strides[k][d] }
            } else {
                outShape.append(shape[d])
                for k in strides.indices { outStrides[k].append(strides[k][d]) }
            }
        }
        if outShape.isEmpty { return ([1], strides.map { _ in [0] }) }
        return (outShape, outStrides)
    }

    /// Walks the rows (last dimension) of an iteration space shared by up to three operands.
    ///
    /// `body(rowIndex, offset0, offset1, offset2)` is called once per row in `rows` (all rows when nil)
    /// with each operand's element offset at the row's start; the row has `shape.last` elements,
    /// stepping by each operand's last stride. Operands beyond `strides.count` get offset 0.
    @inline(__always)
    static func forEachRow(shape: [Int], strides: [[Int]], rows: Range<Int>? = nil, _ body: (Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank <= 1 {
            if rows?.isEmpty != true { body(0, 0, 0, 0) }
            return
        }
        let s0 = strides.count > 0 ? strides[0] : [Int](repeating: 0, count: rank)
        let s1 = strides.count > 1 ? strides[1] : [Int](repeating: 0, count: rank)
        let s2 = strides.count > 2 ? strides[2] : [Int](repeating: 0, count: rank)
        let rows = rows ?? 0..<rowCount(shape)
        if rows.isEmpty { return }
        // The starting position: the first row's index in each outer dimension.
        var index = [Int](repeating: 0, count: rank - 1)
        var o0 = 0, o1 = 0, o2 = 0, rest = rows.lowerBound
        for d in stride(from: rank - 2, through: 0, by: -1) {
            index[d] = rest % shape[d]
            rest /= shape[d]
            o0 += index[d] * s0[d]; o1 += index[d] * s1[d]; o2 += index[d] * s2[d]
        }
        for row in rows {
            body(row, o0, o1, o2)
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                o0 += s0[d]; o1 += s1[d]; o2 += s2[d]
                if index[d] < shape[d] { break }
                o0 -= s0[d] * shape[d]; o1 -= s1[d] * shape[d]; o2 -= s2[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// ``forEachRow(shape:strides:rows:_:)`` over all rows, split over threads by ``Parallel`` when the
    /// iteration space has at least `Parallel.minimumWork` elements. `body` must only write what its
    /// own row owns.
    static func forEachRowSplit(shape: [Int], strides: [[Int]], _ body: (Int, Int, Int, Int) -> Void) {
        let rows = shape.count <= 1 ? 1 : rowCount(shape)
        Parallel.forEachPart(rows, work: shapeCount(shape)) { part in
            forEachRow(shape: shape, strides: strides, rows: part, body)
        }
    }

    /// The number of rows (products of all but the last dimension) of a shape of rank at least 2.
    private static func rowCount(_ shape: [Int]) -> Int {
        var rows = 1
        for d in 0..<(shape.count - 1) { rows *= shape[d] }
        return rows
    }

    /// The element offset of position `index` (counted in row-major order) of `shape` read with `strides`.
    @inline(__always)
    static func offset(ofPosition index: Int, shape: [Int], strides: [Int]) -> Int {
        var rest = index, offset = 0
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            let size = shape[d]
            offset += (rest % size) * strides[d]
            rest /= size
        }
        return offset
    }

    /// Calls `body` with the element offset of every position of `shape` read with `strides`, in row-major
    /// order (once, with 0, for an empty shape).
    @inline(__always)
    static func forEachOffset(shape: [Int], strides: [Int], _ body: (Int) -> Void) {
        switch shape.count {
        case 0: body(0)
        case 1:
            let n = shape[0], s = strides[0]
            for i in 0..<n { body(i &* s) }
        default:
            if shape.contains(0) { return }
            let rank = shape.count, last = shape[rank - 1], lastStride = strides[rank - 1]
            var index = [Int](repeating: 0, count: rank - 1)
            var base = 0
            while true {
                for i in 0..<last { body(base &+ i &* lastStride) }
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    base += strides[d]
                    if index[d] < shape[d] { break }
                    base -= strides[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
                if d < 0 { return }
            }
        }
    }
}
