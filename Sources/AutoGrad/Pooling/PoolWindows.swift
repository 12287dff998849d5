/// The windows of a 2-D pooling over the last two dimensions of an `[N, C, H, W]` (or `[C, H, W]`) tensor.
///
/// Every pooling here is separable: output `(i, j)` of each `H × W` plane reads the rectangle of rows
/// `rowStart[i]..<rowEnd[i]` and columns `colStart[j]..<colEnd[j]` (already clipped to the input, so
/// implicit padding never reaches the kernels), and an average divides by
/// `divisorOverride ?? rowDivisor[i] · colDivisor[j]`. The leading dimensions are a batch of independent
/// planes. Built once per call; the kernels and the ops share it.
struct PoolWindows: Sendable {
    /// The op's name, used in trap messages and as the recorded op's name (e.g. `"AvgPool2d"`).
    let opName: String
    let inputShape: [Int]
    let outputShape: [Int]
    /// The product of the leading dimensions (`N·C`, or `C`).
    let planes: Int
    let height: Int, width: Int
    let outHeight: Int, outWidth: Int
    let rowStart: [Int], rowEnd: [Int]
    let colStart: [Int], colEnd: [Int]
    let rowDivisor: [Int], colDivisor: [Int]
    let divisorOverride: Int?
    /// For sliding windows, how column window `j` is placed before clipping: `kernel` columns from
    /// `j·stride − padding`; nil for adaptive windows. The max kernel uses it to walk all windows of a
    /// row at once.
    let columnPlacement: (kernel: Int, stride: Int, padding: Int)?

    /// The number of elements of one input plane, `H·W`.
    var inputPlane: Int { height * width }
    /// The number of elements of one output plane.
    var outputPlane: Int { outHeight * outWidth }

    /// The row and column strides when every window is a whole `kernel` rectangle placed at a constant
    /// stride (no clipping by padding), else nil; kernels use it to pick an unrolled fast path.
    func unclippedStrides(kernel: (Int, Int)) -> (Int, Int)? {
        func stride(_ start: [Int], _ end: [Int], _ size: Int) -> Int? {
            guard !start.isEmpty, zip(start, end).allSatisfy({ $1 - $0 == size }) else { return nil }
            let step = start.count > 1 ? start[1] - start[0] : 1
            return start.indices.allSatisfy({ start[$0] == start[0] + $0 * step }) ? step : nil
        }
        guard let sh = stride(rowStart, rowEnd, kernel.0), let sw = stride(colStart, colEnd, kernel.1) else { return nil }
        return (sh, sw)
    }

    /// The divisor of output `(i, j)` of a plane.
    @inline(__always)
    func divisor(_ i: Int, _ j: Int) -> Int { divisorOverride ?? rowDivisor[i] * colDivisor[j] }

    private init(opName: String, inputShape: [Int], out: (Int, Int),
                 rows: (start: [Int], end: [Int], divisor: [Int]), cols: (start: [Int], end: [Int], divisor: [Int]),
                 divisorOverride: Int?, columnPlacement: (kernel: Int, stride: Int, padding: Int)?) {
        self.opName = opName
        self.inputShape = inputShape
        self.outputShape = Array(inputShape.dropLast(2)) + [out.0, out.1]
        self.planes = inputShape.dropLast(2).reduce(1, *)
        self.height = inputShape[inputShape.count - 2]
        self.width = inputShape[inputShape.count - 1]
        self.outHeight = out.0
        self.outWidth = out.1
        (rowStart, rowEnd, rowDivisor) = rows
        (colStart, colEnd, colDivisor) = cols
        self.divisorOverride = divisorOverride
        self.columnPlacement = columnPlacement
    }

    private static func checkRank(_ shape: [Int], op: String) {
        precondition(shape.count == 3 || shape.count == 4,
                     "\(op): expected an input of shape [N, C, H, W] or [C, H, W], got \(shape)")
    }

    /// Sliding windows of `kernel` moved by `stride` over the input padded by `padding` on each side
    /// (PyTorch's `max_pool2d`/`avg_pool2d` with dilation 1 and `ceil_mode=False`).
    ///
    /// Output size per dimension: `⌊(size + 2·padding − kernel) / stride⌋ + 1`. The divisor of a window
    /// counts the padded positions it covers (up to the padded edge) when `countIncludePad`, else only
    /// the input positions.
    static func sliding(_ op: String, inputShape shape: [Int], kernel: (Int, Int), stride: (Int, Int),
                        padding: (Int, Int), countIncludePad: Bool = true, divisorOverride: Int? = nil) -> PoolWindows {
        checkRank(shape, op: op)
        let sizes = (shape[shape.count - 2], shape[shape.count - 1])
        precondition(kernel.0 > 0 && kernel.1 > 0, "\(op): kernel size \(kernel) must be positive (input \(shape))")
        precondition(stride.0 > 0 && stride.1 > 0, "\(op): stride \(stride) must be positive (input \(shape))")
        precondition(padding.0 >= 0 && padding.1 >= 0 && padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2,
                     "\(op): padding \(padding) must be non-negative and at most half the kernel size \(kernel)")
        precondition(sizes.0 > 0 && sizes.1 > 0, "\(op): input of shape \(shape) has an empty spatial dimension")
        precondition(sizes.0 + 2 * padding.0 >= kernel.0 && sizes.1 + 2 * padding.1 >= kernel.1,
                     "\(op): kernel \(kernel) is larger than the padded input \(shape) with padding \(padding)")
        if let d = divisorOverride { precondition(d != 0, "\(op): divisorOverride must not be zero") }
        func axis(size: Int, kernel: Int, stride: Int, padding: Int) -> (start: [Int], end: [Int], divisor: [Int]) {
            let count = (size + 2 * padding - kernel) / stride + 1
            var start = [Int](), end = [Int](), divisor = [Int]()
            for i in 0..<count {
                let s = i * stride - padding
                let e = Swift.min(s + kernel, size + padding)
                let (cs, ce) = (Swift.max(s, 0), Swift.min(e, size))
                start.append(cs)
                end.append(ce)
                divisor.append(countIncludePad ? e - s : ce - cs)
            }
            return (start, end, divisor)
        }
        let rows = axis(size: sizes.0, kernel: kernel.0, stride: stride.0, padding: padding.0)
        let cols = axis(size: sizes.1, kernel: kernel.1, stride: stride.1, padding: padding.1)
        return PoolWindows(opName: op, inputShape: shape, out: (rows.start.count, cols.start.count),
                           rows: rows, cols: cols, divisorOverride: divisorOverride,
                           columnPlacement: (kernel.1, stride.1, padding.1))
    }

    /// Adaptive windows (PyTorch's `adaptive_avg_pool2d`): output `i` of a dimension of size `n` pooled to
    /// `m` covers `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉`, and divides by that window's size.
    static func adaptive(_ op: String, inputShape shape: [Int], outputSize: (Int, Int)) -> PoolWindows {
        checkRank(shape, op: op)
        let sizes = (shape[shape.count - 2], shape[shape.count - 1])
        precondition(outputSize.0 > 0 && outputSize.1 > 0, "\(op): output size \(outputSize) must be positive (input \(shape))")
        precondition(sizes.0 > 0 && sizes.1 > 0, "\(op): input of shape \(shape) has an empty spatial dimension")
        func axis(size: Int, out: Int) -> (start: [Int], end: [Int], divisor: [Int]) {
            let start = (0..<out).map { $0 * size / out }
            let end = (0..<out).map { (($0 + 1) * size + out - 1) / out }
            return (start, end, zip(start, end).map { $1 - $0 })
        }
        return PoolWindows(opName: op, inputShape: shape, out: outputSize,
                           rows: axis(size: sizes.0, out: outputSize.0), cols: axis(size: sizes.1, out: outputSize.1),
                           divisorOverride: nil, columnPlacement: nil)
    }
}
