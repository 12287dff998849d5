import CKernels

// The transposed convolution (a convolution's input gradient, ConvTranspose2d's forward pass) by stride phases,
// with its windows gathered as in GatheredWindows.swift: no column matrix and no col2im.
//
// With stride s, padding p, dilation 1 and a kernel k that s divides, input row ih = q·s + r − p (its phase
// r = (ih + p) mod s) takes the k/s kernel rows r + j·s, from output rows q − j; likewise for columns:
//     gx[c, ih, iw] = Σ_(o, j, j') gy[o, q − j, q' − j'] · W[o, c, r + j·s, r' + j'·s']
// so each phase (r, r') is a stride-1 correlation of gy with a part of the filter: a product whose A is gy's
// windows in a zero-padded copy (a pointer per input position of the phase, an offset per (o, j, j')), whose B
// is the phase's filter rows `[(o, j, j'), C]`, and whose C rows land at their input positions, position-major
// (`ck_sgemm_gathered` writes through a pointer per row). CKernels' transpose then turns each image into
// NCHW. Every input position is in exactly one phase, so every element is written once. The DCGAN's 64→128
// layer had instead computed a 13 MB column matrix per pass (Wᵀ·gy) and folded it back with col2im.
enum StridePhases {
    /// Whether `g`'s input gradient can run by stride phases (Float; when it does is ``ConvolutionPlan``'s
    /// choice): one group, dilation 1, kernels that the strides divide, and offsets that fit 32 bits.
    static func fits(_ g: Conv2dGeometry) -> Bool {
        let o = g.options
        guard g.groups == 1, o.dilationHeight == 1, o.dilationWidth == 1,
              g.kernelHeight % o.strideHeight == 0, g.kernelWidth % o.strideWidth == 0 else { return false }
        let (rows, columns) = axes(g)
        return chunk(g) * g.outChannels * rows.paddedSize * columns.paddedSize < Int(Int32.max)
    }

    /// One spatial axis: how the input positions of each phase read the output gradient along it.
    private struct Axis {
        let stride: Int, padding: Int, taps: Int, inputSize: Int, outputSize: Int

        /// The `q` of the phase's input positions `ih = q·stride + phase − padding` in `0..<inputSize`.
        func positions(phase: Int) -> Range<Int> {
            let lower = ceilingDivision(padding - phase, stride)
            let upper = floorDivision(inputSize - 1 + padding - phase, stride)
            return lower..<Swift.max(lower, upper + 1)
        }

        /// The output rows the windows read, over all phases, and the real ones `0..<outputSize`.
        var reach: Range<Int> {
            let phases = (0..<stride).map { positions(phase: $0) }.filter { !$0.isEmpty }
            let first = phases.map { $0.lowerBound - (taps - 1) }.min() ?? 0
            let end = phases.map(\.upperBound).max() ?? 0
            return Swift.min(0, first)..<Swift.max(outputSize, end)
        }

        var paddedSize: Int { reach.count }
    }

    private static func floorDivision(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
    private static func ceilingDivision(_ a: Int, _ b: Int) -> Int { -floorDivision(-a, b) }

    private static func axes(_ g: Conv2dGeometry) -> (rows: Axis, columns: Axis) {
        let o = g.options
        return (Axis(stride: o.strideHeight, padding: o.padTop, taps: g.kernelHeight / o.strideHeight,
                     inputSize: g.inputHeight, outputSize: g.outputHeight),
                Axis(stride: o.strideWidth, padding: o.padLeft, taps: g.kernelWidth / o.strideWidth,
                     inputSize: g.inputWidth, outputSize: g.outputWidth))
    }

    /// The inner dimension of a phase's product: `O·(kH/sh)·(kW/sw)`.
    static func depth(_ g: Conv2dGeometry) -> Int {
        g.outChannels * (g.kernelHeight / g.options.strideHeight) * (g.kernelWidth / g.options.strideWidth)
    }

    /// Images per chunk: about a thousand input positions, so each phase's product has a few hundred rows while
    /// the chunk's padded output gradient and position-major result stay in L2.
    private static func chunk(_ g: Conv2dGeometry) -> Int { Swift.max(1, Swift.min(g.batch, 1024 / Swift.max(1, g.inputPlane))) }

    /// Each phase's filter rows, `[(o, j, j'), C]` one phase after another (phases row-major): each output
    /// channel's filter `[C, kH·kW]` transposed by CKernels' transpose, then its kernel positions' rows copied to
    /// their phases (element by element, the strided reads took 0.1 ms a call, 1.5% of the DCGAN step at 2 threads).
    private static func phaseFilters(_ w: UnsafePointer<Float>, _ g: Conv2dGeometry) -> Tensor {
        let (rows, columns) = axes(g), k = depth(g), channels = g.inChannels
        let positions = g.kernelHeight * g.kernelWidth
        let filters = Tensor(uninitializedShape: [rows.stride * columns.stride * k * channels], dtype: .float32)
        let to = filters.storage.pointer(Float.self)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: positions * channels) { byPosition in
            let byPosition = byPosition.baseAddress!
            for o in 0..<g.outChannels {
                transposeMatrix(rows: channels, columns: positions, w + o * channels * positions, stride: positions,
                                into: byPosition, stride: channels)
                for a in 0..<g.kernelHeight {
                    for b in 0..<g.kernelWidth {
                        let (r, j, s, jj) = (a % rows.stride, a / rows.stride, b % columns.stride, b / columns.stride)
                        let phase = to + (r * columns.stride + s) * k * channels
                        (phase + ((o * rows.taps + j) * columns.taps + jj) * channels)
                            .update(from: byPosition + (a * g.kernelWidth + b) * channels, count: channels)
                    }
                }
            }
        }
        return filters
    }

    /// `gx = convᵀ(gy, W) + b` (`bias` optional, `[C]`) for Float geometries that ``fits(_:)`` accepts: `gy` is
    /// `g.outputShape`, `w` is `g.weightShape`, `gx` is `g.inputShape`.
    static func inputGradient(_ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              into gx: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry) {
        let (rows, columns) = axes(g), k = depth(g), channels = g.inChannels
        let (paddedRows, paddedColumns) = (rows.paddedSize, columns.paddedSize)
        // Padded row and column of gy's (0, 0), and where each phase's first window starts from a position's q.
        let (top, left) = (-rows.reach.lowerBound, -columns.reach.lowerBound)
        let (rowShift, columnShift) = (top - (rows.taps - 1), left - (columns.taps - 1))
        let paddedPlane = paddedRows * paddedColumns, images = chunk(g)
        let filters = phaseFilters(w, g)
        let pf = UnsafePointer(filters.storage.pointer(Float.self))
        // Offset of tap (o, j, j') from a window's first element: the window starts at output row q − (taps − 1).
        var offsets = [Int32]()
        offsets.reserveCapacity(k)
        for o in 0..<g.outChannels {
            for j in 0..<rows.taps {
                for jj in 0..<columns.taps {
                    offsets.append(Int32((o * paddedRows + rows.taps - 1 - j) * paddedColumns + columns.taps - 1 - jj))
                }
            }
        }
        let parts = ConvolutionKernels.chunkParts(g)
        // Per part: the chunk's output gradient in zeroed planes (chunks rewrite only the interiors), its input
        // gradient position-major, an image for the transposes, and each phase's row pointers into the first two.
        // The buffers are the same for every chunk of a part, so the pointers are made once, for a whole chunk,
        // image-major: a shorter last chunk takes the first ones.
        let phases = (0..<rows.stride).flatMap { r in (0..<columns.stride).map { s in (r, s) } }
        let scratches = (0..<parts).map { _ in
            let padded = Tensor.zeros([images * g.outChannels * paddedPlane], dtype: .float32)
            let positionMajor = Tensor(uninitializedShape: [images * g.inputPlane * channels], dtype: .float32)
            let (gyp, out) = (UnsafePointer(padded.storage.pointer(Float.self)), positionMajor.storage.pointer(Float.self))
            let phaseRows = phases.map { r, s in
                var windows = [UnsafePointer<Float>?](), targets = [UnsafeMutablePointer<Float>?]()
                for n in 0..<images {
                    for q in rows.positions(phase: r) {
                        for qq in columns.positions(phase: s) {
                            windows.append(gyp + (n * g.outChannels * paddedRows + q + rowShift) * paddedColumns + qq + columnShift)
                            let (ih, iw) = (q * rows.stride + r - rows.padding, qq * columns.stride + s - columns.padding)
                            targets.append(out + ((n * g.inputHeight + ih) * g.inputWidth + iw) * channels)
                        }
                    }
                }
                return (windows: windows, targets: targets, perImage: windows.count / images)
            }
            return (padded: padded, positionMajor: positionMajor, phaseRows: phaseRows,
                    image: Tensor(uninitializedShape: [g.inputPlane * channels], dtype: .float32))
        }
        ConvolutionKernels.forEachBatchChunk(g, parts: parts, imagesPerChunk: images) { part, chunk in
            let scratch = scratches[part]
            GatheredWindows.copyInteriors(gy + chunk.lowerBound * g.outChannels * g.outputPlane,
                                          planes: chunk.count * g.outChannels, rows: g.outputHeight,
                                          columns: g.outputWidth, into: scratch.padded.storage.pointer(Float.self),
                                          paddedRows: paddedRows, paddedColumns: paddedColumns, top: top, left: left)
            for (phase, (r, s)) in phases.enumerated() {
                let rowsOfPhase = scratch.phaseRows[phase], count = chunk.count * rowsOfPhase.perImage
                if count == 0 { continue }
                ck_sgemm_gathered(count, channels, k, 1, rowsOfPhase.windows, offsets,
                                  pf + (r * columns.stride + s) * k * channels, channels, 0, nil, 0, rowsOfPhase.targets)
            }
            GatheredWindows.storeImages(scratch.positionMajor.storage.pointer(Float.self), imageCount: chunk.count,
                                        plane: g.inputPlane, channels: channels, bias: bias,
                                        through: scratch.image.storage.pointer(Float.self),
                                        into: gx + chunk.lowerBound * channels * g.inputPlane)
        }
        withExtendedLifetime((filters, scratches)) {}
    }
}
