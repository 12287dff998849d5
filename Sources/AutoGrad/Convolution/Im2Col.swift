// im2col and its adjoint col2im: the copies that turn a convolution into matrix products.
//
// For a chunk of `nb` images, the column matrix has one row per (input channel c, kernel row a,
// kernel column b) — `C·kH·kW` rows, so group g's rows are the contiguous block
// `g·patchSize ..< (g+1)·patchSize` — and one column per (image n, output row i, output column j):
// `nb·Ho·Wo` columns, image-major. Entry (c·kH·kW + a·kW + b, n·Ho·Wo + i·Wo + j) holds
// `x[n, c, i·s − pTop + a·d, j·s − pLeft + b·d]`, or zero where that position is padding.
//
// Both loops run over whole output rows: the valid rows and columns for each kernel offset are
// computed once, padding is written with `update(repeating:)`, and with stride 1 a row is one
// contiguous copy (im2col) or add (col2im).

/// The index arithmetic that im2col and col2im share for a chunk of `nb` images: which output rows
/// and columns of each kernel offset read inside the image, where each column-matrix row starts and
/// which input element its first valid entry comes from. Keeping it in one place keeps the two adjoint.
private struct ColumnLayout {
    let g: Conv2dGeometry
    let imageCount: Int
    /// For each kernel row `a`, the output rows whose input row lies inside the image.
    let validRows: [Range<Int>]
    /// For each kernel column `b`, the output columns whose input column lies inside the image.
    let validColumns: [Range<Int>]

    init(_ g: Conv2dGeometry, imageCount nb: Int) {
        self.g = g
        imageCount = nb
        validRows = (0..<g.kernelHeight).map { g.validOutputRows(kernelRow: $0) }
        validColumns = (0..<g.kernelWidth).map { g.validOutputColumns(kernelColumn: $0) }
    }

    /// The offset in the column matrix of entry (c·kH·kW + a·kW + b, n·Ho·Wo): where the output
    /// plane of image `n` begins in the row of channel `c` and kernel offset `(a, b)`.
    @inline(__always)
    func columnOffset(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int) -> Int {
        ((c * g.kernelHeight + a) * g.kernelWidth + b) * imageCount * g.outputPlane + n * g.outputPlane
    }

    /// The offset in the input of `x[n, c, i·s − pTop + a·d, low·s − pLeft + b·d] − low`, for `i` and
    /// `low` the first valid output row and column: the entry of output column `j` in that row is
    /// at `+ j` (stride 1) or `+ low + (j − low)·s`.
    @inline(__always)
    func inputOffset(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int) -> Int {
        let o = g.options, low = validColumns[b].lowerBound
        return (n * g.inChannels + c) * g.inputPlane
            + (validRows[a].lowerBound * o.strideHeight - o.padTop + a * o.dilationHeight) * g.inputWidth
            + (low * o.strideWidth - o.padLeft + b * o.dilationWidth) - low
    }
}

/// Fills `columns` (`C·kH·kW` rows of `nb·Ho·Wo`) from `nb` consecutive images starting at `input`.
func im2col<T: TensorScalar>(_ input: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             into columns: UnsafeMutablePointer<T>) {
    let layout = ColumnLayout(g, imageCount: nb)
    let (width, outWidth, sh, sw) = (g.inputWidth, g.outputWidth, g.options.strideHeight, g.options.strideWidth)
    // Images write disjoint column ranges, so they can be split over threads.
    Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * g.outputPlane) { images in
        for n in images {
            for c in 0..<g.inChannels {
                for a in 0..<g.kernelHeight {
                    let rows = layout.validRows[a]
                    for b in 0..<g.kernelWidth {
                        let (low, high) = (layout.validColumns[b].lowerBound, layout.validColumns[b].upperBound)
                        let out = columns + layout.columnOffset(image: n, channel: c, kernelRow: a, kernelColumn: b)
                        // Rows that fall entirely into the top or bottom padding.
                        out.update(repeating: 0, count: rows.lowerBound * outWidth)
                        out.advanced(by: rows.upperBound * outWidth)
                            .update(repeating: 0, count: (g.outputHeight - rows.upperBound) * outWidth)
                        // Plain loops, not memset/memcpy calls: the rows are short and the loops vectorise.
                        var dst = out + rows.lowerBound * outWidth
                        var src = input + layout.inputOffset(image: n, channel: c, kernelRow: a, kernelColumn: b)
                        for _ in rows {
                            for j in 0..<low { dst[j] = 0 }
                            if sw == 1 {
                                for j in low..<high { dst[j] = src[j] }
                            } else {
                                for j in low..<high { dst[j] = src[low + (j - low) &* sw] }
                            }
                            for j in high..<outWidth { dst[j] = 0 }
                            dst += outWidth
                            src += sh * width
                        }
                    }
                }
            }
        }
    }
}

/// Adds each entry of `columns` (`C·kH·kW` rows of `nb·Ho·Wo`) into the input position it was
/// copied from by ``im2col(_:imageCount:_:into:)``, for `nb` consecutive images starting at
/// `output`; padding entries are dropped. This is im2col's adjoint: `⟨im2col(x), M⟩ = ⟨x, col2im(M)⟩`.
/// `output` must be initialised (usually to zeros): the entries are accumulated.
func col2im<T: TensorScalar>(_ columns: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             addingInto output: UnsafeMutablePointer<T>) {
    let layout = ColumnLayout(g, imageCount: nb)
    let (width, outWidth, sh, sw) = (g.inputWidth, g.outputWidth, g.options.strideHeight, g.options.strideWidth)
    // Images accumulate into disjoint parts of the output, so they can be split over threads.
    Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * g.outputPlane) { images in
        for n in images {
            for c in 0..<g.inChannels {
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let (low, high) = (layout.validColumns[b].lowerBound, layout.validColumns[b].upperBound)
                        let rows = layout.validRows[a]
                        var src = columns + layout.columnOffset(image: n, channel: c, kernelRow: a, kernelColumn: b)
                            + rows.lowerBound * outWidth
                        var dst = output + layout.inputOffset(image: n, channel: c, kernelRow: a, kernelColumn: b)
                        for _ in rows {
                            if sw == 1 {
                                for j in low..<high { dst[j] += src[j] }
                            } else {
                                for j in low..<high { dst[low + (j - low) &* sw] += src[j] }
                            }
                            src += outWidth
                            dst += sh * width
                        }
                    }
                }
            }
        }
    }
}
