import CKernels

// The three convolution computations on tensors, each im2col/col2im plus one GEMM per group.
//
// With X the column matrix of a chunk of images (see Im2Col.swift), Wg the weight of group g viewed
// as `[O/G, C/G·kH·kW]`, and Y the output chunk viewed as `[O, nb·Ho·Wo]` (channel-major):
//   forward           Yg = Wg · Xg
//   input gradient    Xg = Wgᵀ · Yg, then col2im          (the transposed convolution; a block of input
//                                                        channels' rows at a time, so col2im reads them from L2)
//   weight gradient   Wg = Σ over chunks  Yg · Xgᵀ,  or  Wgᵀ = Σ over chunks  Xg · Ygᵀ
// Wide Float layers take other routes where their geometry allows: GatheredWindows.swift (forward pass and
// weight gradient of padded or strided layers), StridePhases.swift (input gradient when the strides divide
// the kernel), WindowRows.swift (stride 1 without padding).
// Folding `nb` images into the columns makes one large GEMM instead of `nb` small ones; the output
// is then staged channel-major and copied to (or from) NCHW, one contiguous plane at a time.
// The transposed weight gradient (Float, wide enough layers) reads the output gradient staged
// position-major `[nb·Ho·Wo, O]`, so neither operand of its product is transposed: the product
// then needs no packing of the large column matrix (DCGAN's 64→128 layer: 685 → 552 µs a chunk).

/// Copies `nb` images `[nb, channels, rows, width]` to channel-major `[channels, nb, rows, pitch]`
/// (`pitch ≥ width`; columns `width..<pitch` are set to zero), or back (those columns dropped).
private func transposeBatch<T: TensorScalar>(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>,
                                             imageCount nb: Int, channels: Int, rows: Int, width: Int, pitch: Int,
                                             toChannelMajor: Bool) {
    let (plane, pitchedPlane) = (rows * width, rows * pitch)
    for n in 0..<nb {
        for c in 0..<channels {
            let imageMajor = (n * channels + c) * plane, channelMajor = (c * nb + n) * pitchedPlane
            if pitch == width {
                if toChannelMajor {
                    (destination + channelMajor).update(from: source + imageMajor, count: plane)
                } else {
                    (destination + imageMajor).update(from: source + channelMajor, count: plane)
                }
                continue
            }
            // Rows are short (tens of elements): plain loops, which vectorise, beat a memcpy call per row.
            for i in 0..<rows {
                let (image, pitched) = (imageMajor &+ i &* width, channelMajor &+ i &* pitch)
                if toChannelMajor {
                    let (from, to) = (source + image, destination + pitched)
                    for j in 0..<width { to[j] = from[j] }
                    for j in width..<pitch { to[j] = 0 }
                } else {
                    let (from, to) = (source + pitched, destination + image)
                    for j in 0..<width { to[j] = from[j] }
                }
            }
        }
    }
}

/// `destination[j·destinationStride + i] = source[i·sourceStride + j]` for `i < rows`, `j < columns`: with
/// CKernels' transpose (blocks in registers) for Float, else by loops.
func transposeMatrix<T: TensorScalar>(rows: Int, columns: Int, _ source: UnsafePointer<T>, stride sourceStride: Int,
                                      into destination: UnsafeMutablePointer<T>, stride destinationStride: Int) {
    if T.self == Float.self {
        ck_transpose_f32(rows, columns, source.reinterpreted(as: Float.self), sourceStride,
                         destination.reinterpreted(as: Float.self), destinationStride)
        return
    }
    for i in 0..<rows {
        for j in 0..<columns { destination[j * destinationStride + i] = source[i * sourceStride + j] }
    }
}

/// Scratch buffers for one convolution: the column matrix and the channel-major staging of the
/// output-sized operand, both sized for the largest chunk. Tensors, so the memory comes from the
/// tensor allocator and is counted by ``TensorMemory``.
private struct ConvolutionScratch<T: TensorScalar> {
    var columns: Tensor
    var staging: Tensor

    /// `alwaysStaged` sizes `staging` for every chunk (position-major staging always copies); without
    /// `columns` there is no column matrix (products that read the input in place, see WindowRows.swift).
    init(_ g: Conv2dGeometry, alwaysStaged: Bool = false, columns needsColumns: Bool = true) {
        let chunk = g.batchChunk
        columns = Tensor(uninitializedShape: [needsColumns ? g.inChannels * g.kernelHeight * g.kernelWidth * chunk * g.columnPlane : 0],
                         dtype: T.dtype)
        let staged = alwaysStaged || ConvolutionScratch.needsStaging(chunk, g)
        staging = Tensor(uninitializedShape: [staged ? g.outChannels * chunk * g.columnPlane : 0], dtype: T.dtype)
    }

    /// Whether a chunk of `nb` images needs its output-sized operand copied: a single image in the
    /// output layout already is channel-major `[O, Ho·Wo]`.
    static func needsStaging(_ nb: Int, _ g: Conv2dGeometry) -> Bool { nb > 1 || g.columnRowPitch != g.outputWidth }

    var columnPointer: UnsafeMutablePointer<T> { columns.storage.pointer(T.self) }
    var stagingPointer: UnsafeMutablePointer<T> { staging.storage.pointer(T.self) }

    /// The output-sized operand of a chunk of `nb` images starting at `images` (`[nb, O, Ho, Wo]`),
    /// channel-major `[O, nb·Ho·pitch]` as the GEMMs read it (zero in the columns past `Wo`).
    func channelMajor(_ images: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry) -> UnsafePointer<T> {
        guard ConvolutionScratch.needsStaging(nb, g) else { return images }
        transposeBatch(images, stagingPointer, imageCount: nb, channels: g.outChannels, rows: g.outputHeight,
                       width: g.outputWidth, pitch: g.columnRowPitch, toChannelMajor: true)
        return UnsafePointer(stagingPointer)
    }

    /// The output-sized operand of a chunk of `nb` images starting at `images` (`[nb, O, Ho, Wo]`),
    /// position-major `[nb·Ho·pitch, O]` (zero in the rows of columns past `Wo`), in `staging`.
    func positionMajor(_ images: UnsafePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry) -> UnsafePointer<T> {
        let to = stagingPointer, channels = g.outChannels, plane = g.outputPlane
        let (rows, width, pitch) = (g.outputHeight, g.outputWidth, g.columnRowPitch)
        for n in 0..<nb {
            let image = images + n * channels * plane, positions = to + n * g.columnPlane * channels
            if pitch == width {
                transposeMatrix(rows: channels, columns: plane, image, stride: plane, into: positions, stride: channels)
                continue
            }
            for i in 0..<rows {
                let rowStart = positions + i * pitch * channels
                transposeMatrix(rows: channels, columns: width, image + i * width, stride: plane, into: rowStart, stride: channels)
                (rowStart + width * channels).update(repeating: 0, count: (pitch - width) * channels)
            }
        }
        return UnsafePointer(to)
    }

    /// Where a chunk's product should write the channel-major output: straight into the images when
    /// no staging is needed, else into `staging` (then ``storeImages(_:imageCount:_:)`` copies it out).
    func productOutput(_ images: UnsafeMutablePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry) -> UnsafeMutablePointer<T> {
        ConvolutionScratch.needsStaging(nb, g) ? stagingPointer : images
    }

    /// Copies the staged channel-major output of a chunk to its images `[nb, O, Ho, Wo]`.
    func storeImages(_ images: UnsafeMutablePointer<T>, imageCount nb: Int, _ g: Conv2dGeometry) {
        guard ConvolutionScratch.needsStaging(nb, g) else { return }
        transposeBatch(UnsafePointer(stagingPointer), images, imageCount: nb, channels: g.outChannels,
                       rows: g.outputHeight, width: g.outputWidth, pitch: g.columnRowPitch, toChannelMajor: false)
    }
}

enum ConvolutionKernels {
    /// `y = conv(x, W) + b`: `x` is `g.inputShape`, `w` is `g.weightShape`, `bias` (optional) is `[O]`, added to
    /// every element of its output channel; the result is `g.outputShape`. `plan` forces routes (tests); by
    /// default ``ConvolutionPlan/automatic(_:_:)`` chooses.
    static func forward(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, _ g: Conv2dGeometry,
                        plan: ConvolutionPlan? = nil) -> Tensor {
        let dtype = bias.map { DType.promoted(DType.promoted(x.dtype, w.dtype), $0.dtype) } ?? DType.promoted(x.dtype, w.dtype)
        var y = Tensor(uninitializedShape: g.outputShape, dtype: dtype)
        switch dtype {
        case .float32: forward(Float.self, x.to(dtype), w.to(dtype), bias?.to(dtype), &y, g, route(plan, Float.self, g).forward)
        case .float64: forward(Double.self, x.to(dtype), w.to(dtype), bias?.to(dtype), &y, g, route(plan, Double.self, g).forward)
        }
        return y
    }

    /// `plan`, checked against what `g` admits in `T`, or the automatic plan.
    private static func route<T: TensorScalar>(_ plan: ConvolutionPlan?, _: T.Type, _ g: Conv2dGeometry) -> ConvolutionPlan {
        guard let plan else { return ConvolutionPlan.automatic(T.self, g) }
        precondition(plan.isAdmitted(T.self, g), "conv2d: plan (\(plan)) does not fit \(T.self) geometry \(g)")
        return plan
    }

    /// The transposed convolution `x = convᵀ(y, W) + b`, the adjoint of ``forward(_:_:bias:_:)`` in its input
    /// (plus a bias): `y` is `g.outputShape`, `w` is `g.weightShape`, `bias` (optional) is `[C]`; the result is
    /// `g.inputShape`.
    static func inputGradient(_ y: Tensor, _ w: Tensor, bias: Tensor? = nil, _ g: Conv2dGeometry,
                              plan: ConvolutionPlan? = nil) -> Tensor {
        let dtype = bias.map { DType.promoted(DType.promoted(y.dtype, w.dtype), $0.dtype) } ?? DType.promoted(y.dtype, w.dtype)
        var x = Tensor(uninitializedShape: g.inputShape, dtype: dtype)   // col2im writes every element
        switch dtype {
        case .float32:
            inputGradient(Float.self, y.to(dtype), w.to(dtype), bias?.to(dtype), &x, g, route(plan, Float.self, g).inputGradient)
        case .float64:
            inputGradient(Double.self, y.to(dtype), w.to(dtype), bias?.to(dtype), &x, g, route(plan, Double.self, g).inputGradient)
        }
        return x
    }

    /// Adds `bias[c]` to plane `c` of each of `nb` images `[nb, channels, plane]` starting at `images`: called
    /// on a chunk just written, while it is in cache (a separate broadcast addition read and wrote the whole
    /// output again, 0.9% of the DCGAN step).
    static func addBias<T: TensorScalar>(_ bias: UnsafePointer<T>?, to images: UnsafeMutablePointer<T>, imageCount nb: Int,
                                         channels: Int, plane: Int) {
        guard let bias else { return }
        for n in 0..<nb {
            for c in 0..<channels {
                let (values, b) = (images + (n * channels + c) * plane, bias[c])
                for i in 0..<plane { values[i] += b }
            }
        }
    }

    /// `∂⟨conv(x, W), gy⟩/∂W`, the adjoint of ``forward(_:_:bias:_:)`` in its weight: `x` is
    /// `g.inputShape`, `gy` is `g.outputShape`; the result is `g.weightShape`.
    static func weightGradient(_ x: Tensor, _ gy: Tensor, _ g: Conv2dGeometry, plan: ConvolutionPlan? = nil) -> Tensor {
        let dtype = DType.promoted(x.dtype, gy.dtype)
        var w = Tensor(uninitializedShape: g.weightShape, dtype: dtype)
        switch dtype {
        case .float32: weightGradient(Float.self, x.to(dtype), gy.to(dtype), &w, g, route(plan, Float.self, g).weightGradient)
        case .float64: weightGradient(Double.self, x.to(dtype), gy.to(dtype), &w, g, route(plan, Double.self, g).weightGradient)
        }
        return w
    }

    // MARK: Typed kernels

    /// Calls `body(part, firstImage, imageCount, scratch)` for each chunk of the batch, with BLAS ready.
    ///
    /// With more than one thread and enough work, the batch is split into contiguous parts, one per
    /// thread, and each part runs its chunks with its own scratch buffers (its products then run on its
    /// own thread): chunks sized to stay in cache make products too small to split well, while whole
    /// images split evenly. `parts` (``chunkParts(_:)`` by default) is the number of parts; `part` is in
    /// `0..<parts`.
    private static func forEachChunk<T: TensorScalar>(_: T.Type, _ g: Conv2dGeometry, parts: Int? = nil,
                                                      alwaysStaged: Bool = false, columns: Bool = true,
                                                      _ body: (Int, Int, Int, ConvolutionScratch<T>) -> Void) {
        _ = BLAS.prepared
        let parts = parts ?? chunkParts(g)
        let scratches = (0..<parts).map { _ in ConvolutionScratch<T>(g, alwaysStaged: alwaysStaged, columns: columns) }
        forEachBatchChunk(g, parts: parts, imagesPerChunk: g.batchChunk) { part, images in
            body(part, images.lowerBound, images.count, scratches[part])
        }
        withExtendedLifetime(scratches) {}
    }

    /// Calls `body(part, images)` for each chunk of `imagesPerChunk` images (fewer at a part's end) of `parts`
    /// contiguous parts of the batch, one part per thread of the pool.
    static func forEachBatchChunk(_ g: Conv2dGeometry, parts: Int, imagesPerChunk chunk: Int,
                                  _ body: (Int, Range<Int>) -> Void) {
        ThreadPool.shared.run(parts: parts) { part in
            let images = (g.batch * part / parts)..<(g.batch * (part + 1) / parts)
            for start in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
                body(part, start..<Swift.min(start + chunk, images.upperBound))
            }
        }
    }

    /// How many contiguous parts of the batch run on threads of their own: one per thread, when there is
    /// enough work.
    static func chunkParts(_ g: Conv2dGeometry) -> Int {
        let work = g.batch * g.inChannels * g.kernelHeight * g.kernelWidth * g.outputPlane
        return work >= Parallel.minimumWork ? Swift.max(1, Swift.min(BLAS.threadCount, g.batch)) : 1
    }

    private static func forward<T: TensorScalar>(_: T.Type, _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ y: inout Tensor,
                                                 _ g: Conv2dGeometry, _ route: ConvolutionPlan.Forward) {
        let px = x.storage.pointer(T.self), pw = w.storage.pointer(T.self), py = y.storage.pointer(T.self)
        let pb = b.map { UnsafePointer($0.storage.pointer(T.self)) }
        defer { withExtendedLifetime(b) {} }
        if route == .gatheredWindows {
            _ = BLAS.prepared
            GatheredWindows.forward(px.reinterpreted(as: Float.self), pw.reinterpreted(as: Float.self),
                                    bias: pb?.reinterpreted(as: Float.self), into: py.reinterpreted(as: Float.self), g)
            return
        }
        let (og, k, outPlane, columnPlane) = (g.groupOutChannels, g.patchSize, g.outputPlane, g.columnPlane)
        if route == .windowRows {
            // Image by image, B's rows read in place (WindowRows.swift); the wide output is staged as usual.
            let width = WindowRows.productWidth(g)
            forEachChunk(T.self, g, columns: false) { _, start, nb, scratch in
                WindowRows.forEachImage(start..<(start + nb), input: px.reinterpreted(as: Float.self), g) { n, rows in
                    let image = py + n * g.outChannels * outPlane
                    let result = scratch.productOutput(image, imageCount: 1, g).reinterpreted(as: Float.self)
                    for group in 0..<g.groups {
                        ck_sgemm_rows(0, og, width, k, 1, (pw + group * og * k).reinterpreted(as: Float.self), k,
                                      rows + group * k, 0, result + group * og * columnPlane, columnPlane)
                    }
                    scratch.storeImages(image, imageCount: 1, g)
                    addBias(pb, to: image, imageCount: 1, channels: g.outChannels, plane: outPlane)
                }
            }
            return
        }
        forEachChunk(T.self, g) { _, start, nb, scratch in
            let columns = scratch.columnPointer
            im2col(px + start * g.inChannels * g.inputPlane, imageCount: nb, g, into: columns)
            let width = nb * columnPlane
            let images = py + start * g.outChannels * outPlane
            if route == .columnsPerImage {
                // Image by image, the product writes each image's planes in place: no staged copy to move.
                for n in 0..<nb {
                    for group in 0..<g.groups {
                        gemm(transposeA: false, transposeB: false, m: og, n: outPlane, k: k,
                             pw + group * og * k, lda: k, columns + group * k * width + n * columnPlane, ldb: width,
                             beta: 0, images + (n * g.outChannels + group * og) * outPlane, ldc: outPlane)
                    }
                }
                addBias(pb, to: images, imageCount: nb, channels: g.outChannels, plane: outPlane)
                return
            }
            let result = scratch.productOutput(images, imageCount: nb, g)
            for group in 0..<g.groups {
                gemm(transposeA: false, transposeB: false, m: og, n: width, k: k,
                     pw + group * og * k, lda: k, columns + group * k * width, ldb: width,
                     beta: 0, result + group * og * width, ldc: width)
            }
            scratch.storeImages(images, imageCount: nb, g)
            addBias(pb, to: images, imageCount: nb, channels: g.outChannels, plane: outPlane)
        }
    }

    private static func inputGradient<T: TensorScalar>(_: T.Type, _ y: Tensor, _ w: Tensor, _ b: Tensor?, _ x: inout Tensor,
                                                       _ g: Conv2dGeometry, _ route: ConvolutionPlan.InputGradient) {
        let py = y.storage.pointer(T.self), pw = w.storage.pointer(T.self), px = x.storage.pointer(T.self)
        let pb = b.map { UnsafePointer($0.storage.pointer(T.self)) }
        defer { withExtendedLifetime(b) {} }
        if route == .stridePhases {
            _ = BLAS.prepared
            StridePhases.inputGradient(py.reinterpreted(as: Float.self), pw.reinterpreted(as: Float.self),
                                       bias: pb?.reinterpreted(as: Float.self), into: px.reinterpreted(as: Float.self), g)
            return
        }
        let (og, k, outPlane, columnPlane) = (g.groupOutChannels, g.patchSize, g.outputPlane, g.columnPlane)
        let (groupChannels, taps) = (g.groupInChannels, g.kernelHeight * g.kernelWidth)
        forEachChunk(T.self, g) { _, start, nb, scratch in
            let columns = scratch.columnPointer
            let width = nb * columnPlane
            let source = scratch.channelMajor(py + start * g.outChannels * outPlane, imageCount: nb, g)
            let images = px + start * g.inChannels * g.inputPlane
            // Wide rows' col2im takes every channel at once: the whole column matrix first.
            let blocked = !g.usesWideRows, block = blocked ? columnBlockChannels(g, width: width) : groupChannels
            for group in 0..<g.groups {
                for first in stride(from: 0, to: groupChannels, by: block) {
                    let channels = Swift.min(block, groupChannels - first), channel = group * groupChannels + first
                    gemm(transposeA: true, transposeB: false, m: channels * taps, n: width, k: og,
                         pw + group * og * k + first * taps, lda: k, source + group * og * width, ldb: width,
                         beta: 0, blocked ? columns : columns + channel * taps * width, ldc: width)
                    if blocked { col2im(columns, imageCount: nb, g, channels: channel..<(channel + channels), into: images) }
                }
            }
            if !blocked { col2im(columns, imageCount: nb, g, into: images) }
            addBias(pb, to: images, imageCount: nb, channels: g.inChannels, plane: g.inputPlane)
        }
    }

    /// Input channels whose column-matrix rows the input gradient computes and folds back (col2im) in one go:
    /// as many as fit ``Conv2dGeometry/columnBudget`` (L2), so col2im reads what the product just wrote from
    /// there (the whole chunk's matrix, 2.2 MB for the DCGAN's 64→128 layer, went out to L3 and back).
    /// A block's rows are kept a multiple of the product's 12-row register tiles where that leaves a block (a
    /// 4-row remainder tile per block of 7 DCGAN channels cost 1.5% of the step).
    private static func columnBlockChannels(_ g: Conv2dGeometry, width: Int) -> Int {
        let taps = g.kernelHeight * g.kernelWidth
        let fitting = Swift.max(1, g.columnBudget / Swift.max(1, width) / taps)
        if fitting >= g.groupInChannels { return g.groupInChannels }
        let wholeTiles = (1...12).first { $0 * taps % 12 == 0 }!
        return fitting >= wholeTiles ? fitting / wholeTiles * wholeTiles : fitting
    }

    private static func weightGradient<T: TensorScalar>(_: T.Type, _ x: Tensor, _ gy: Tensor, _ w: inout Tensor,
                                                        _ g: Conv2dGeometry, _ route: ConvolutionPlan.WeightGradient) {
        let px = x.storage.pointer(T.self), pgy = gy.storage.pointer(T.self)
        if route == .gatheredWindows {
            _ = BLAS.prepared
            GatheredWindows.weightGradient(px.reinterpreted(as: Float.self), pgy.reinterpreted(as: Float.self),
                                           into: w.storage.pointer(Float.self), g)
            return
        }
        let (og, k, outPlane, columnPlane) = (g.groupOutChannels, g.patchSize, g.outputPlane, g.columnPlane)
        let weightCount = w.count
        let transposed = route == .columnsTransposed
        let inPlace = route == .windowRows
        // Each part sums its images' products into its own slice, so parts never write the same memory.
        // Transposed, a slice holds each group's `[k, O/G]` block in place of its `[O/G, k]` block.
        let parts = chunkParts(g)
        let partials = Tensor.zeros([parts, weightCount], dtype: T.dtype)
        let pw = partials.storage.pointer(T.self)
        forEachChunk(T.self, g, parts: parts, alwaysStaged: transposed, columns: !inPlace) { part, start, nb, scratch in
            if inPlace {
                // Image by image, the columns' rows read in place (WindowRows.swift): A·Bᵀ with B by rows.
                let width = WindowRows.productWidth(g), sum = (pw + part * weightCount).reinterpreted(as: Float.self)
                WindowRows.forEachImage(start..<(start + nb), input: px.reinterpreted(as: Float.self), g) { n, rows in
                    let source = scratch.channelMajor(pgy + n * g.outChannels * outPlane, imageCount: 1, g)
                        .reinterpreted(as: Float.self)
                    for group in 0..<g.groups {
                        ck_sgemm_rows(1, og, k, width, 1, source + group * og * columnPlane, columnPlane,
                                      rows + group * k, 1, sum + group * og * k, k)
                    }
                }
                return
            }
            let columns = scratch.columnPointer
            im2col(px + start * g.inChannels * g.inputPlane, imageCount: nb, g, into: columns)
            let width = nb * columnPlane
            let images = pgy + start * g.outChannels * outPlane
            let sum = pw + part * weightCount
            if transposed {
                let source = scratch.positionMajor(images, imageCount: nb, g)
                for group in 0..<g.groups {
                    gemm(transposeA: false, transposeB: false, m: k, n: og, k: width,
                         columns + group * k * width, lda: width, source + group * og, ldb: g.outChannels,
                         beta: 1, sum + group * og * k, ldc: og)
                }
                return
            }
            let source = scratch.channelMajor(images, imageCount: nb, g)
            for group in 0..<g.groups {
                gemm(transposeA: false, transposeB: true, m: og, n: k, k: width,
                     source + group * og * width, lda: width, columns + group * k * width, ldb: width,
                     beta: 1, sum + group * og * k, ldc: k)
            }
        }
        for part in 1..<parts {
            let slice = pw + part * weightCount
            for i in 0..<weightCount { pw[i] += slice[i] }
        }
        let out = w.storage.pointer(T.self)
        if transposed {
            for group in 0..<g.groups {
                transposeMatrix(rows: k, columns: og, pw + group * og * k, stride: og, into: out + group * og * k, stride: k)
            }
        } else {
            out.update(from: pw, count: weightCount)
        }
        withExtendedLifetime(partials) {}
    }
}
