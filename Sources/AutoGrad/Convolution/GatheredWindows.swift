import CKernels

// Padded and strided convolutions without a column matrix: the product gathers the windows itself.
//
// Row (c, a, b) of the column matrix at position (n, i, j) is `xp[n, c, i·sh + a·dh, j·sw + b·dw]` in the
// zero-padded input xp (`[N, C, Hp, Wp]`): a pointer per position plus an offset per (c, a, b), or the other
// way round. CKernels' `ck_sgemm_gathered` reads its A operand in exactly that form (`A[i, p] =
// aRows[i][aOffsets[p]]`), so with xp copied chunk by chunk (a third larger than x with the DCGAN's padding
// of 1) the two products that multiply by the column matrix read the windows where they are:
//   forward           Yᵀ[(n, i, j), o]  = Σ_(c,a,b) xp[position + offset(c, a, b)] · Wᵀ[(c, a, b), o]
//   weight gradient   Wᵀ[(c, a, b), o] = Σ_(n,i,j) xp[window(c, a, b) + offset(n, i, j)] · gyᵀ[(n, i, j), o]
// Both come out with the output channels along the product's 32-wide register tiles, position-major, and
// are transposed back to NCHW (and `[O, C, kH, kW]`) by CKernels' transpose. The DCGAN discriminator's
// 64→128 layer built a 13 MB column matrix per pass (a gather about as slow as the memory it wrote);
// the padded copy and the transposes move a fifth of that.
enum GatheredWindows {
    /// Whether `g`'s forward pass and weight gradient can gather their windows (Float; when they do is
    /// ``ConvolutionPlan``'s choice): one group, every window inside the padded planes, offsets that fit 32 bits.
    static func fits(_ g: Conv2dGeometry) -> Bool {
        guard g.groups == 1 else { return false }
        let o = g.options
        let (height, width) = paddedSize(g)
        let windowsFit = (g.outputHeight - 1) * o.strideHeight + (g.kernelHeight - 1) * o.dilationHeight < height
            && (g.outputWidth - 1) * o.strideWidth + (g.kernelWidth - 1) * o.dilationWidth < width
        return windowsFit && chunk(g) * g.inChannels * height * width < Int(Int32.max)
    }

    /// The padded plane's height and width.
    private static func paddedSize(_ g: Conv2dGeometry) -> (Int, Int) {
        let o = g.options
        return (g.inputHeight + o.padTop + o.padBottom, g.inputWidth + o.padLeft + o.padRight)
    }

    /// Images per product: enough positions for the row tiles to amortise their set-up, few enough that the
    /// position-major output stays in L2 until it is transposed.
    private static func chunk(_ g: Conv2dGeometry) -> Int { Swift.max(1, 384 / Swift.max(1, g.outputPlane)) }

    /// Scratch for one part of the batch: a chunk's zero-padded images, its position-major product and one image
    /// for the transposes (see ``storeImages(_:imageCount:plane:channels:bias:through:into:)``), made per part so
    /// they stay in L2 between the copy, the product and the transpose (a padded copy of the whole batch, 4 MiB
    /// for the DCGAN layer, had left the chunk's windows in L3 by the time the product read them).
    /// The padded planes are the same buffer for every chunk of a part, so the product's row pointers into them
    /// (`xp` plus each of the caller's window offsets: per output position of a whole chunk, image-major, so a
    /// shorter last chunk takes the first ones; or per filter element) are made once.
    private struct ChunkScratch {
        let padded: Tensor, positionMajor: Tensor, image: Tensor
        let windows: [UnsafePointer<Float>?]

        init(_ g: Conv2dGeometry, windowOffsets: [Int32]) {
            let (height, width) = GatheredWindows.paddedSize(g), images = GatheredWindows.chunk(g)
            // Zero once: each chunk rewrites only the planes' interiors, so the padding stays zero.
            padded = Tensor.zeros([images * g.inChannels * height * width], dtype: .float32)
            positionMajor = Tensor(uninitializedShape: [images * g.outputPlane * g.outChannels], dtype: .float32)
            image = Tensor(uninitializedShape: [g.outputPlane * g.outChannels], dtype: .float32)
            let xp = UnsafePointer(padded.storage.pointer(Float.self))
            windows = windowOffsets.map { xp + Int($0) }
        }

        var paddedPointer: UnsafeMutablePointer<Float> { padded.storage.pointer(Float.self) }
        var positionMajorPointer: UnsafeMutablePointer<Float> { positionMajor.storage.pointer(Float.self) }
    }

    /// Calls `body(part, images, scratch)` for each chunk of the batch (see
    /// ``ConvolutionKernels/forEachBatchChunk(_:parts:imagesPerChunk:_:)``), with `images` of `x` already copied
    /// into `scratch`'s zero-padded planes `[images, C, Hp, Wp]`, whose `windows` are at `windowOffsets` in them.
    private static func forEachPaddedChunk(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, parts: Int,
                                           windowOffsets: [Int32], _ body: (Int, Range<Int>, ChunkScratch) -> Void) {
        let scratches = (0..<parts).map { _ in ChunkScratch(g, windowOffsets: windowOffsets) }
        ConvolutionKernels.forEachBatchChunk(g, parts: parts, imagesPerChunk: chunk(g)) { part, images in
            pad(x + images.lowerBound * g.inChannels * g.inputPlane, planes: images.count * g.inChannels, g,
                into: scratches[part].paddedPointer)
            body(part, images, scratches[part])
        }
        withExtendedLifetime(scratches) {}
    }

    /// `planes` planes of `x` copied into the interiors of padded planes `[planes, Hp, Wp]` at `destination`,
    /// whose padding is already zero.
    private static func pad(_ x: UnsafePointer<Float>, planes: Int, _ g: Conv2dGeometry,
                            into destination: UnsafeMutablePointer<Float>) {
        let (height, width) = paddedSize(g), o = g.options
        copyInteriors(x, planes: planes, rows: g.inputHeight, columns: g.inputWidth, into: destination,
                      paddedRows: height, paddedColumns: width, top: o.padTop, left: o.padLeft)
    }

    /// Copies `planes` planes of `rows × columns` from `source` into the interiors of planes `paddedRows ×
    /// paddedColumns` at `destination`, at row `top` and column `left`; the rest of those planes is left as it is.
    static func copyInteriors(_ source: UnsafePointer<Float>, planes: Int, rows: Int, columns: Int,
                              into destination: UnsafeMutablePointer<Float>, paddedRows: Int, paddedColumns: Int,
                              top: Int, left: Int) {
        for plane in 0..<planes {
            // Rows are a few dozen elements: plain loops, which vectorise, not a memcpy call per row (memset and
            // memcpy calls took 3% of the DCGAN step).
            let from = source + plane * rows * columns, to = destination + plane * paddedRows * paddedColumns
            for r in 0..<rows {
                let rowFrom = from + r * columns, rowTo = to + (top + r) * paddedColumns + left
                for j in 0..<columns { rowTo[j] = rowFrom[j] }
            }
        }
    }

    /// Writes `nb` position-major images `[plane, channels]` as NCHW images `[channels, plane]` at `destination`,
    /// plus `bias` (optional, per channel), each transposed into `buffer` (`plane·channels`, in cache) and then
    /// copied: the transpose's scattered stores into memory not in cache ran at 6.5 GB/s, a copy at 30.
    static func storeImages(_ positionMajor: UnsafePointer<Float>, imageCount nb: Int, plane: Int, channels: Int,
                            bias: UnsafePointer<Float>?, through buffer: UnsafeMutablePointer<Float>,
                            into destination: UnsafeMutablePointer<Float>) {
        for n in 0..<nb {
            transposeMatrix(rows: plane, columns: channels, positionMajor + n * plane * channels, stride: channels,
                            into: buffer, stride: plane)
            ConvolutionKernels.addBias(bias, to: buffer, imageCount: 1, channels: channels, plane: plane)
            (destination + n * channels * plane).update(from: buffer, count: channels * plane)
        }
    }

    /// Offsets of the filter's elements (c, a, b), in weight order, from a window's first element in `xp`.
    private static func filterOffsets(_ g: Conv2dGeometry) -> [Int32] {
        let (height, width) = paddedSize(g), o = g.options
        var offsets = [Int32]()
        offsets.reserveCapacity(g.patchSize)
        for c in 0..<g.inChannels {
            for a in 0..<g.kernelHeight {
                for b in 0..<g.kernelWidth {
                    offsets.append(Int32((c * height + a * o.dilationHeight) * width + b * o.dilationWidth))
                }
            }
        }
        return offsets
    }

    /// Offsets of the windows of a whole chunk's output positions (n, i, j), in output order, in padded planes
    /// that start at image 0.
    private static func positionOffsets(_ g: Conv2dGeometry) -> [Int32] {
        let (height, width) = paddedSize(g), o = g.options
        var offsets = [Int32]()
        offsets.reserveCapacity(chunk(g) * g.outputPlane)
        for n in 0..<chunk(g) {
            for i in 0..<g.outputHeight {
                for j in 0..<g.outputWidth {
                    offsets.append(Int32((n * g.inChannels * height + i * o.strideHeight) * width + j * o.strideWidth))
                }
            }
        }
        return offsets
    }

    /// `y = conv(x, W) + b` (`bias` optional, `[O]`) for Float geometries that ``fits(_:)`` accepts.
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        into y: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry) {
        let (k, outChannels, plane) = (g.patchSize, g.outChannels, g.outputPlane)
        let transposedWeight = Tensor(uninitializedShape: [k * outChannels], dtype: .float32)
        let wt = transposedWeight.storage.pointer(Float.self)
        transposeMatrix(rows: outChannels, columns: k, w, stride: k, into: wt, stride: outChannels)
        let filter = filterOffsets(g)
        forEachPaddedChunk(x, g, parts: ConvolutionKernels.chunkParts(g), windowOffsets: positionOffsets(g)) { _, images, scratch in
            let positionMajor = scratch.positionMajorPointer
            ck_sgemm_gathered(images.count * plane, outChannels, k, 1, scratch.windows, filter, wt, outChannels, 0,
                              positionMajor, outChannels, nil)
            storeImages(positionMajor, imageCount: images.count, plane: plane, channels: outChannels, bias: bias,
                        through: scratch.image.storage.pointer(Float.self), into: y + images.lowerBound * outChannels * plane)
        }
        withExtendedLifetime(transposedWeight) {}
    }

    /// `∂⟨conv(x, W), gy⟩/∂W` for Float geometries that ``fits(_:)`` accepts, into `w` (`[O, C, kH, kW]`).
    static func weightGradient(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>,
                               _ g: Conv2dGeometry) {
        let (k, outChannels, plane) = (g.patchSize, g.outChannels, g.outputPlane)
        // Each part sums its images into its own `[k, O]` slice.
        let parts = ConvolutionKernels.chunkParts(g)
        let partials = Tensor.zeros([parts, k * outChannels], dtype: .float32)
        let sums = partials.storage.pointer(Float.self)
        let positions = positionOffsets(g)
        forEachPaddedChunk(x, g, parts: parts, windowOffsets: filterOffsets(g)) { part, images, scratch in
            let positionMajor = scratch.positionMajorPointer
            // Each image copied into cache, then transposed: transposing straight from memory not in cache read
            // at 6 GB/s, a copy at 16.
            let image = scratch.image.storage.pointer(Float.self)
            for (index, n) in images.enumerated() {
                image.update(from: gy + n * outChannels * plane, count: outChannels * plane)
                transposeMatrix(rows: outChannels, columns: plane, image, stride: plane,
                                into: positionMajor + index * plane * outChannels, stride: outChannels)
            }
            ck_sgemm_gathered(k, outChannels, images.count * plane, 1, scratch.windows, positions,
                              positionMajor, outChannels, 1, sums + part * k * outChannels, outChannels, nil)
        }
        for part in 1..<parts {
            let slice = sums + part * k * outChannels
            for i in 0..<(k * outChannels) { sums[i] += slice[i] }
        }
        transposeMatrix(rows: k, columns: outChannels, sums, stride: outChannels, into: w, stride: k)
        withExtendedLifetime(partials) {}
    }
}
