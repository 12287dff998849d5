import CKernels

// im2col and its adjoint col2im: the copies that turn a convolution into matrix products.
//
// For a chunk of `nb` images, the column matrix has one row per (input channel c, kernel row a,
// kernel column b) — `C·kH·kW` rows, so group g's rows are the contiguous block
// `g·patchSize ..< (g+1)·patchSize` — and one column per (image n, output row i, output column j):
// `nb·Ho·Wo` columns, image-major. Entry (c·kH·kW + a·kW + b, n·Ho·Wo + i·Wo + j) holds
// `x[n, c, i·s − pTop + a·d, j·s − pLeft + b·d]`, or zero where that position is padding.
//
// Each input plane is first copied into a zero-padded plane (`Hp × Wp`, the padding around it).
// There every kernel offset reads inside, so one table of in-plane offsets `i·s·Wp + j·s`, in output
// order, serves all of them (shifted by `a·d·Wp + b·d`), and the copy loops have no bounds to test
// and no per-row set-up: with the DCGAN's 7-wide outputs, that set-up was most of the work. With
// stride 1 the rows are contiguous and copied row by row instead (those loops vectorise).

/// The padded plane and the offset table that im2col and col2im share; keeping them in one place
/// keeps the two adjoint.
private struct PaddedPlane {
    let g: Conv2dGeometry
    let width: Int, height: Int
    /// For each output position `i·Wo + j`, the offset `i·s·Wp + j·s` in the padded plane.
    let offsets: [Int]

    init(_ g: Conv2dGeometry) {
        self.g = g
        let o = g.options
        width = g.inputWidth + o.padLeft + o.padRight
        height = g.inputHeight + o.padTop + o.padBottom
        var offsets = [Int](repeating: 0, count: g.outputPlane)
        for i in 0..<g.outputHeight {
            for j in 0..<g.outputWidth { offsets[i * g.outputWidth + j] = i * o.strideHeight * width + j * o.strideWidth }
        }
        self.offsets = offsets
    }

    /// Where kernel offset `(a, b)` starts reading in the padded plane.
    @inline(__always)
    func kernelOffset(_ a: Int, _ b: Int) -> Int { a * g.options.dilationHeight * width + b * g.options.dilationWidth }

    /// Where the input plane's first element sits in the padded plane.
    var interiorOffset: Int { g.options.padTop * width + g.options.padLeft }

}

/// Runs the im2col or col2im of CKernels (`kernel(images, shape)`) over parts of `0..<nb` split over
/// threads, when `T` is `Float` and the kernels take this geometry; returns whether it ran.
private func vectorizedColumns<T: TensorScalar>(_: T.Type, imageCount nb: Int, _ g: Conv2dGeometry,
                                                channels: Range<Int>? = nil,
                                                _ kernel: (Range<Int>, UnsafePointer<ck_columns_shape>) -> Void) -> Bool {
    guard T.self == Float.self else { return false }
    let o = g.options
    var shape = ck_columns_shape(
        images: nb, channels: channels?.count ?? g.inChannels, imageChannels: g.inChannels,
        height: g.inputHeight, width: g.inputWidth,
        padTop: o.padTop, padLeft: o.padLeft, paddedWidth: g.inputWidth + o.padLeft + o.padRight,
        kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, outHeight: g.outputHeight, outWidth: g.outputWidth,
        strideHeight: o.strideHeight, strideWidth: o.strideWidth, dilationHeight: o.dilationHeight,
        dilationWidth: o.dilationWidth, rowStride: nb * g.outputPlane)
    guard ck_columns_vectorized(&shape) != 0 else { return false }
    Parallel.forEachPart(nb, work: nb * shape.channels * g.kernelHeight * g.kernelWidth * g.outputPlane) { images in
        var part = shape
        part.images = images.count
        kernel(images, &part)
    }
    return true
}

/// Calls `body(images, padded, offsets)` for parts of `0..<nb` split over threads: each part gets its
/// own padded-plane buffer, zeroed, and the shared offset table.
private func forEachPaddedPart<T: TensorScalar>(_ plane: PaddedPlane, imageCount nb: Int, _: T.Type,
                                                _ body: (Range<Int>, UnsafeMutablePointer<T>, UnsafePointer<Int>) -> Void) {
    let g = plane.g
    plane.offsets.withUnsafeBufferPointer { offsets in
        Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * g.outputPlane) { images in
            let padded = UnsafeMutablePointer<T>.allocate(capacity: plane.width * plane.height)
            defer { padded.deallocate() }
            padded.initialize(repeating: 0, count: plane.width * plane.height)
            body(images, padded, offsets.baseAddress!)
        }
    }
}

/// Fills `columns` (`C·kH·kW` rows of `nb·Ho·Wo`, or `nb·Ho·W` with wide rows) from `nb` consecutive
/// images starting at `input`.
func im2col<T: TensorScalar>(_ input: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             into columns: UnsafeMutablePointer<T>) {
    if g.usesWideRows { return wideRowIm2col(input, imageCount: nb, g, into: columns) }
    if vectorizedColumns(T.self, imageCount: nb, g, { range, shape in
        ck_im2col_f32((input + range.lowerBound * g.inChannels * g.inputPlane).reinterpreted(as: Float.self), shape,
                      (columns + range.lowerBound * g.outputPlane).reinterpreted(as: Float.self))
    }) { return }
    let plane = PaddedPlane(g)
    let (outPlane, outWidth, width, pitch) = (g.outputPlane, g.outputWidth, g.inputWidth, plane.width)
    let rowStep = g.options.strideHeight * pitch
    forEachPaddedPart(plane, imageCount: nb, T.self) { images, padded, offsets in
        let interior = padded + plane.interiorOffset
        for n in images {
            for c in 0..<g.inChannels {
                // The padding stays zero: only the interior is rewritten, plane after plane.
                let source = input + (n * g.inChannels + c) * g.inputPlane
                for r in 0..<g.inputHeight { (interior + r * pitch).update(from: source + r * width, count: width) }
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let from = padded + plane.kernelOffset(a, b)
                        let to = columns + ((c * g.kernelHeight + a) * g.kernelWidth + b) * nb * outPlane + n * outPlane
                        if g.options.strideWidth == 1 {
                            for i in 0..<g.outputHeight {
                                let (rowFrom, rowTo) = (from + i &* rowStep, to + i &* outWidth)
                                for j in 0..<outWidth { rowTo[j] = rowFrom[j] }
                            }
                        } else {
                            for t in 0..<outPlane { to[t] = from[offsets[t]] }
                        }
                    }
                }
            }
        }
    }
}

/// Stores in `nb` consecutive images starting at `output` the sums of the entries of `columns`
/// (`C·kH·kW` rows of `nb·Ho·Wo`, or `nb·Ho·W` with wide rows) over the input positions they were
/// copied from by ``im2col(_:imageCount:_:into:)``; padding entries are dropped. This is im2col's
/// adjoint: `⟨im2col(x), M⟩ = ⟨x, col2im(M)⟩`. Every element of the images is written, so `output`
/// need not be initialised.
///
/// With `channels`, `columns` holds only those channels' rows (`channels.count·kH·kW`) and only their planes
/// of the images are written; wide rows (see below) take the whole range only.
func col2im<T: TensorScalar>(_ columns: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                             channels: Range<Int>? = nil, into output: UnsafeMutablePointer<T>) {
    let channels = channels ?? 0..<g.inChannels
    if g.usesWideRows {
        precondition(channels == 0..<g.inChannels, "col2im: wide rows take every channel, not \(channels)")
        return wideRowCol2im(columns, imageCount: nb, g, into: output)
    }
    if vectorizedColumns(T.self, imageCount: nb, g, channels: channels, { range, shape in
        ck_col2im_f32((columns + range.lowerBound * g.outputPlane).reinterpreted(as: Float.self), shape,
                      (output + range.lowerBound * g.inChannels * g.inputPlane + channels.lowerBound * g.inputPlane)
                        .reinterpreted(as: Float.self))
    }) { return }
    let plane = PaddedPlane(g)
    let (outPlane, outWidth, width, pitch) = (g.outputPlane, g.outputWidth, g.inputWidth, plane.width)
    let rowStep = g.options.strideHeight * pitch
    forEachPaddedPart(plane, imageCount: nb, T.self) { images, padded, offsets in
        let interior = padded + plane.interiorOffset
        for n in images {
            for c in channels {
                padded.update(repeating: 0, count: plane.width * plane.height)
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let to = padded + plane.kernelOffset(a, b)
                        let row = ((c - channels.lowerBound) * g.kernelHeight + a) * g.kernelWidth + b
                        let from = columns + row * nb * outPlane + n * outPlane
                        if g.options.strideWidth == 1 {
                            for i in 0..<g.outputHeight {
                                let (rowFrom, rowTo) = (from + i &* outWidth, to + i &* rowStep)
                                for j in 0..<outWidth { rowTo[j] += rowFrom[j] }
                            }
                        } else {
                            // Distinct positions for distinct t (the stride is at least 1), so no entry is
                            // added twice within one kernel offset.
                            for t in 0..<outPlane { to[offsets[t]] += from[t] }
                        }
                    }
                }
                // The padding's sums belong to no input element and are dropped.
                let target = output + (n * g.inChannels + c) * g.inputPlane
                for r in 0..<g.inputHeight { (target + r * width).update(from: interior + r * pitch, count: width) }
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

/// ``col2im(_:imageCount:_:into:)`` with wide rows: each image is cleared, then every run added into
/// it. A run is cut at the end of its own image: the entries past it are padding columns, and images
/// are written by different threads.
private func wideRowCol2im<T: TensorScalar>(_ columns: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry,
                                            into output: UnsafeMutablePointer<T>) {
    let run = g.columnPlane, imageSize = g.inChannels * g.inputPlane
    Parallel.forEachPart(nb, work: nb * g.inChannels * g.kernelHeight * g.kernelWidth * run) { images in
        for n in images {
            let imageEnd = output + (n + 1) * imageSize
            (imageEnd - imageSize).update(repeating: 0, count: imageSize)
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
func wideRunStart(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int, _ g: Conv2dGeometry) -> Int {
    (n * g.inChannels + c) * g.inputPlane + a * g.options.dilationHeight * g.inputWidth + b * g.options.dilationWidth
}

/// Where that run starts in the column matrix of `nb` images.
@inline(__always)
private func wideRunOffset(image n: Int, channel c: Int, kernelRow a: Int, kernelColumn b: Int, imageCount nb: Int,
                           _ g: Conv2dGeometry) -> Int {
    ((c * g.kernelHeight + a) * g.kernelWidth + b) * nb * g.columnPlane + n * g.columnPlane
}
