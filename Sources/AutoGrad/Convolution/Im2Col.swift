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

/// Fills `columns` (`C·kH·kW` rows of `nb·Ho·Wo`, or `nb·Ho·W` with wide rows) from `nb` consecutive
/// images starting at `input`.
func im2col<T: TensorScalar>(_ input: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             into columns: UnsafeMutablePointer<T>) {
    if g.usesWideRows { return wideRowIm2col(input, imageCount: nb, g, into: columns) }
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
                            // Strides as constants in their own loops: the copy vectorises for 1 and 2
                            // (a stride-2 load is two loads and a shuffle), not for a variable stride.
                            let first = src + low
                            switch sw {
                            case 1: for j in low..<high { dst[j] = src[j] }
                            case 2: for t in 0..<(high &- low) { dst[low &+ t] = first[2 &* t] }
                            default: for t in 0..<(high &- low) { dst[low &+ t] = first[sw &* t] }
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
    if g.usesWideRows { return wideRowCol2im(columns, imageCount: nb, g, addingInto: output) }
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
                            let first = dst + low
                            switch sw {
                            case 1: for j in low..<high { dst[j] += src[j] }
                            case 2: for t in 0..<(high &- low) { first[2 &* t] += src[low &+ t] }
                            default: for t in 0..<(high &- low) { first[sw &* t] += src[low &+ t] }
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

// Wide rows (stride 1, no padding). Entry (c·kH·kW + a·kW + b, n·Ho·W + i·W + j) holds
// `x[n, c, i + a·d, j + b·d]` for every `j < W`, not only `j < Wo`: reading the input row on past
// the output's width, into the next row, makes each column-matrix row of an image one contiguous
// run of `Ho·W` input elements, so im2col is one copy per (image, channel, kernel offset) instead of
// one per output row. The columns `j ≥ Wo` are padding of the product: the output-sized operand is
// zero there (its staging writes zeros) and the output there is dropped, so they contribute nothing.

/// ``im2col(_:imageCount:_:into:)`` with wide rows. A run that would read past the chunk's last
/// image is cut there and the rest of it zeroed.
private func wideRowIm2col<T: TensorScalar>(_ input: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                                            into columns: UnsafeMutablePointer<T>) {
    let run = g.columnPlane, end = input + nb * g.inChannels * g.inputPlane
    Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * run) { images in
        for n in images {
            for c in 0..<g.inChannels {
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let source = input + wideRunStart(image: n, channel: c, kernelRow: a, kernelColumn: b, g)
                        let destination = columns + wideRunOffset(image: n, channel: c, kernelRow: a, kernelColumn: b,
                                                                  imageCount: nb, g)
                        let available = Swift.min(run, end - source)
                        destination.update(from: source, count: available)
                        (destination + available).update(repeating: 0, count: run - available)
                    }
                }
            }
        }
    }
}

/// ``col2im(_:imageCount:_:addingInto:)`` with wide rows. Each run is cut at the end of its own
/// image: the entries past it are padding columns, and images are added into by different threads.
private func wideRowCol2im<T: TensorScalar>(_ columns: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                                            addingInto output: UnsafeMutablePointer<T>) {
    let run = g.columnPlane, imageSize = g.inChannels * g.inputPlane
    Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * run) { images in
        for n in images {
            let imageEnd = output + (n + 1) * imageSize
            for c in 0..<g.inChannels {
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let destination = output + wideRunStart(image: n, channel: c, kernelRow: a, kernelColumn: b, g)
                        let source = columns + wideRunOffset(image: n, channel: c, kernelRow: a, kernelColumn: b,
                                                             imageCount: nb, g)
                        let count = Swift.min(run, imageEnd - destination)
                        for t in 0..<count { destination[t] += source[t] }
                    }
                }
            }
        }
    }
}

/// Where the wide run of (image `n`, channel `c`, kernel offset `(a, b)`) starts in the input.
@inline(__always)
private func wideRunStart(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int, _ g: Conv2dGeometry) -> Int {
    (n * g.inChannels + c) * g.inputPlane + a * g.options.dilationHeight * g.inputWidth + b * g.options.dilationWidth
}

/// Where that run starts in the column matrix of `nb` images.
@inline(__always)
private func wideRunOffset(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int, imageCount nb: Int,
                           _ g: Conv2dGeometry) -> Int {
    ((c * g.kernelHeight + a) * g.kernelWidth + b) * nb * g.columnPlane + n * g.columnPlane
}
