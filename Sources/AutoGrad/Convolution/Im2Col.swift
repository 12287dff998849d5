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

/// Fills `columns` (`C·kH·kW` rows of `nb·Ho·Wo`) from `nb` consecutive images starting at `input`.
func im2col<T: TensorScalar>(_ input: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             into columns: UnsafeMutablePointer<T>) {
    let (width, plane, outWidth, outPlane) = (g.inputWidth, g.inputPlane, g.outputWidth, g.outputPlane)
    let (kh, kw) = (g.kernelHeight, g.kernelWidth)
    let (sh, sw) = (g.options.strideHeight, g.options.strideWidth)
    let (dh, dw) = (g.options.dilationHeight, g.options.dilationWidth)
    let (pt, pl) = (g.options.padTop, g.options.padLeft)
    let rowLength = nb * outPlane
    let validColumns = (0..<kw).map { g.validOutputColumns(kernelColumn: $0) }
    let validRows = (0..<kh).map { g.validOutputRows(kernelRow: $0) }
    for n in 0..<nb {
        for c in 0..<g.inChannels {
            let image = input + (n * g.inChannels + c) * plane
            for a in 0..<kh {
                let rows = validRows[a]
                for b in 0..<kw {
                    let (low, high) = (validColumns[b].lowerBound, validColumns[b].upperBound)
                    let out = columns + ((c * kh + a) * kw + b) * rowLength + n * outPlane
                    // Rows that fall entirely into the top or bottom padding.
                    out.update(repeating: 0, count: rows.lowerBound * outWidth)
                    out.advanced(by: rows.upperBound * outWidth)
                        .update(repeating: 0, count: (g.outputHeight - rows.upperBound) * outWidth)
                    // Plain loops, not memset/memcpy calls: the rows are short and the loops vectorise.
                    var dst = out + rows.lowerBound * outWidth
                    var src = image + (rows.lowerBound * sh - pt + a * dh) * width + (low * sw - pl + b * dw) - low
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

/// Adds each entry of `columns` (`C·kH·kW` rows of `nb·Ho·Wo`) into the input position it was
/// copied from by ``im2col(_:imageCount:_:into:)``, for `nb` consecutive images starting at
/// `output`; padding entries are dropped. This is im2col's adjoint: `⟨im2col(x), M⟩ = ⟨x, col2im(M)⟩`.
/// `output` must be initialised (usually to zeros): the entries are accumulated.
func col2im<T: TensorScalar>(_ columns: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             addingInto output: UnsafeMutablePointer<T>) {
    let (width, plane, outWidth, outPlane) = (g.inputWidth, g.inputPlane, g.outputWidth, g.outputPlane)
    let (kh, kw) = (g.kernelHeight, g.kernelWidth)
    let (sh, sw) = (g.options.strideHeight, g.options.strideWidth)
    let (dh, dw) = (g.options.dilationHeight, g.options.dilationWidth)
    let (pt, pl) = (g.options.padTop, g.options.padLeft)
    let rowLength = nb * outPlane
    let validColumns = (0..<kw).map { g.validOutputColumns(kernelColumn: $0) }
    let validRows = (0..<kh).map { g.validOutputRows(kernelRow: $0) }
    for n in 0..<nb {
        for c in 0..<g.inChannels {
            let image = output + (n * g.inChannels + c) * plane
            for a in 0..<kh {
                for b in 0..<kw {
                    let (low, high) = (validColumns[b].lowerBound, validColumns[b].upperBound)
                    let rows = validRows[a]
                    var src = UnsafePointer(columns + ((c * kh + a) * kw + b) * rowLength + n * outPlane + rows.lowerBound * outWidth)
                    var dst = image + (rows.lowerBound * sh - pt + a * dh) * width + (low * sw - pl + b * dw) - low
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
