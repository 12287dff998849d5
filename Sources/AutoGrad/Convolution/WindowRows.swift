import CKernels

// Wide-row convolutions (stride 1, no padding; see Im2Col.swift) without a column matrix.
//
// With wide rows, row (c, a, b) of an image's column matrix is one contiguous run of the input, starting
// at x[n, c, a·d, b·d]. The product can read those runs where they are: CKernels' `ck_sgemm_rows` takes
// one pointer per row of B instead of a matrix. LeNet-5's 3→6 layer copied 17 MiB of runs per pass into
// its column matrix, 25 times its input; now it builds a table of 75 pointers per image.
//
// A run is `(Ho − 1)·W + Wo` long here, not `Ho·W`: the last output row stops at Wo, so no run reads past
// its plane (the columns it leaves out are dropped from the output anyway).
enum WindowRows {
    /// Columns of one image's product: `(Ho − 1)·W + Wo`.
    static func productWidth(_ g: Conv2dGeometry) -> Int { (g.outputHeight - 1) * g.inputWidth + g.outputWidth }

    /// Calls `body(n, rows)` for each image `n` in `images`, with `rows[(c·kH + a)·kW + b]` pointing at the start
    /// of image `n`'s run for (c, a, b) in `input` (one table, refilled per image).
    static func forEachImage(_ images: Range<Int>, input: UnsafePointer<Float>, _ g: Conv2dGeometry,
                             _ body: (Int, UnsafePointer<UnsafePointer<Float>?>) -> Void) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: g.inChannels * g.kernelHeight * g.kernelWidth) {
            let rows = $0.baseAddress!
            for n in images {
                var row = 0
                for c in 0..<g.inChannels {
                    for a in 0..<g.kernelHeight {
                        for b in 0..<g.kernelWidth {
                            rows[row] = input + wideRunStart(image: n, channel: c, kernelRow: a, kernelColumn: b, g)
                            row += 1
                        }
                    }
                }
                body(n, rows)
            }
        }
    }
}
