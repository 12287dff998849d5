// Shapes and broadcasting of one scaled dot-product attention call, worked out once so the kernels see only
// sizes and offsets: `batch` independent problems, each a query matrix [tq, e], key [tk, e], value [tk, ev] and
// an optional additive mask row pattern, at offsets that repeat where a batch dimension is broadcast.

/// Where the operands of the `batch` attention problems of one call live.
struct AttentionLayout {
    /// The broadcast leading dimensions of query, key, value and mask.
    let batchShape: [Int]
    /// Queries, keys, the query/key width and the value width.
    let tq: Int, tk: Int, e: Int, ev: Int
    /// The factor applied to `q·kᵀ`.
    let scale: Double
    /// Whether key `j` is hidden from query `i` when `j > i` (top-left aligned).
    let isCausal: Bool
    /// Element offsets of each problem's matrices in the (unbroadcast) operands.
    let queryOffsets: [Int], keyOffsets: [Int], valueOffsets: [Int]
    /// Element offsets of each problem's mask matrix; nil without a mask.
    let maskOffsets: [Int]?
    /// Steps between mask elements of consecutive queries and keys (0 where the mask is broadcast).
    let maskRowStride: Int, maskColumnStride: Int

    /// The number of independent problems.
    var batch: Int { queryOffsets.count }

    /// The layout of `query [*, tq, e]`, `key [*, tk, e]`, `value [*, tk, ev]` and a mask broadcastable to
    /// `[*, tq, tk]`, all leading dimensions broadcast together; traps naming the shapes when they disagree.
    init(query: [Int], key: [Int], value: [Int], mask: [Int]?, scale: Double?, isCausal: Bool) {
        let op = "scaledDotProductAttention"
        let shapes = "query \(query), key \(key), value \(value)" + (mask.map { ", mask \($0)" } ?? "")
        precondition(query.count >= 2 && key.count >= 2 && value.count >= 2,
                     "\(op): query, key and value need rank ≥ 2 ([*, T, E]), got \(shapes)")
        tq = query[query.count - 2]
        e = query[query.count - 1]
        tk = key[key.count - 2]
        ev = value[value.count - 1]
        precondition(key.last == e, "\(op): key width \(key.last!) differs from query width \(e) (\(shapes))")
        precondition(value[value.count - 2] == tk, "\(op): value has \(value[value.count - 2]) rows for \(tk) keys (\(shapes))")
        precondition(e > 0, "\(op): query width must be positive (\(shapes))")
        var maskShape = mask ?? []
        if mask != nil {
            while maskShape.count < 2 { maskShape.insert(1, at: 0) }
            let (rows, columns) = (maskShape[maskShape.count - 2], maskShape[maskShape.count - 1])
            precondition((rows == 1 || rows == tq) && (columns == 1 || columns == tk),
                         "\(op): mask does not broadcast to [\(tq), \(tk)] (\(shapes))")
        }
        let leading = [query, key, value].map { Array($0.dropLast(2)) } + (mask == nil ? [] : [Array(maskShape.dropLast(2))])
        var batchShape = leading[0]
        for dims in leading.dropFirst() {
            guard let shape = Broadcasting.shape(batchShape, dims) else {
                preconditionFailure("\(op): leading dimensions do not broadcast (\(shapes))")
            }
            batchShape = shape
        }
        self.batchShape = batchShape
        self.scale = scale ?? 1 / Double(e).squareRoot()
        self.isCausal = isCausal
        func offsets(_ shape: [Int], matrix: Int) -> [Int] {
            let strides = Broadcasting.strides(of: shape, broadcastTo: batchShape)
            let count = batchShape.reduce(1, *), target = contiguousStrides(batchShape)
            return (0..<count).map { flat in
                var offset = 0, rest = flat
                for d in 0..<batchShape.count {
                    offset += rest / target[d] * strides[d]
                    rest %= target[d]
                }
                return offset * matrix
            }
        }
        queryOffsets = offsets(leading[0], matrix: tq * e)
        keyOffsets = offsets(leading[1], matrix: tk * e)
        valueOffsets = offsets(leading[2], matrix: tk * ev)
        if mask != nil {
            let (rows, columns) = (maskShape[maskShape.count - 2], maskShape[maskShape.count - 1])
            maskOffsets = offsets(leading[3], matrix: rows * columns)
            maskRowStride = rows == 1 ? 0 : columns
            maskColumnStride = columns == 1 ? 0 : 1
        } else {
            maskOffsets = nil
            maskRowStride = 0
            maskColumnStride = 0
        }
    }

    /// The output shape `[*, tq, ev]`.
    var outputShape: [Int] { batchShape + [tq, ev] }
    /// The shape of the attention weights, `[*, tq, tk]`.
    var weightShape: [Int] { batchShape + [tq, tk] }
}
