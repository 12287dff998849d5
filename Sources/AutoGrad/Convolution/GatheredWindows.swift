import CKernels

// Padded and strided convolutions without a column matrix: the product gathers the windows itself.
//
// Row (c, a, b) of the column matrix at position (n, i, j) is `xp[n, c, i·sh + a·dh, j·sw + b·dw]` in the
// zero-padded input xp (`[N, C, Hp, Wp]`): a pointer per position plus an offset per (c, a, b), or the other
// way round. CKernels' `ck_sgemm_gathered` reads its A operand in exactly that form (`A[i, p] =
// aRows[i][aOffsets[p]]`), so with xp copied once (a third larger than x with the DCGAN's padding of 1) the
// two products that multiply by the column matrix read the windows where they are:
//   forward           Yᵀ[(n, i, j), o]  = Σ_(c,a,b) xp[position + offset(c, a, b)] · Wᵀ[(c, a, b), o]
//   weight gradient   Wᵀ[(c, a, b), o] = Σ_(n,i,j) xp[window(c, a, b) + offset(n, i, j)] · gyᵀ[(n, i, j), o]
// Both come out with the output channels along the product's 32-wide register tiles, position-major, and
// are transposed back to NCHW (and `[O, C, kH, kW]`) by the AVX-512 transpose. The DCGAN discriminator's
// 64→128 layer built a 13 MB column matrix per pass (a gather about as slow as the memory it wrote);
// the padded copy and the transposes move a fifth of that.
enum GatheredWindows {
    /// Whether `g`'s forward pass and weight gradient in `T` gather their windows: Float on CKernels' product
    /// route, one group, geometries that WindowRows does not read in place, output channels that fill the
    /// product's tiles, filters long enough to amortise a tile's stores, and offsets that fit 32 bits.
    static func apply<T: TensorScalar>(_: T.Type, _ g: Conv2dGeometry) -> Bool {
        guard T.self == Float.self, BLAS.floatProductRoute != .openBLAS, g.groups == 1, !g.usesWideRows,
              g.outChannels >= 32, g.patchSize >= 64 else { return false }
        let o = g.options
        let (height, width) = paddedSize(g)
        let windowsFit = (g.outputHeight - 1) * o.strideHeight + (g.kernelHeight - 1) * o.dilationHeight < height
            && (g.outputWidth - 1) * o.strideWidth + (g.kernelWidth - 1) * o.dilationWidth < width
        return windowsFit && g.batch * g.inChannels * height * width < Int(Int32.max)
    }

    /// The padded plane's height and width.
    private static func paddedSize(_ g: Conv2dGeometry) -> (Int, Int) {
        let o = g.options
        return (g.inputHeight + o.padTop + o.padBottom, g.inputWidth + o.padLeft + o.padRight)
    }

    /// Images per product: enough positions for the row tiles to amortise their set-up, few enough that the
    /// position-major output stays in L2 until it is transposed.
    private static func chunk(_ g: Conv2dGeometry) -> Int { Swift.max(1, 384 / Swift.max(1, g.outputPlane)) }

    /// `x` copied into zero-padded planes `[N, C, Hp, Wp]`.
    private static func padded(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry) -> Tensor {
        let (height, width) = paddedSize(g), o = g.options
        let planes = g.batch * g.inChannels
        let result = Tensor(uninitializedShape: [planes * height * width], dtype: .float32)
        let to = result.storage.pointer(Float.self)
        let (inputWidth, inputHeight, padTop, padLeft) = (g.inputWidth, g.inputHeight, o.padTop, o.padLeft)
        Parallel.forEachPart(planes, work: planes * height * width) { range in
            for plane in range {
                // Rows are a few dozen elements: plain loops, which vectorise, not a memset and memcpy call per row
                // (those took 3% of the DCGAN step).
                let source = x + plane * g.inputPlane, destination = to + plane * height * width
                for i in 0..<(height * width) { destination[i] = 0 }
                for r in 0..<inputHeight {
                    let from = source + r * inputWidth, row = destination + (padTop + r) * width + padLeft
                    for j in 0..<inputWidth { row[j] = from[j] }
                }
            }
        }
        return result
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

    /// Offset of position (n, i, j)'s window in `xp`, for `n` in `images`, in output order.
    private static func positionOffset(image n: Int, row i: Int, column j: Int, _ g: Conv2dGeometry) -> Int {
        let (height, width) = paddedSize(g), o = g.options
        return (n * g.inChannels * height + i * o.strideHeight) * width + j * o.strideWidth
    }

    /// `y = conv(x, W)` for Float geometries that ``apply(_:_:)`` accepts.
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                        _ g: Conv2dGeometry) {
        let (k, outChannels, plane) = (g.patchSize, g.outChannels, g.outputPlane)
        let input = padded(x, g)
        let xp = UnsafePointer(input.storage.pointer(Float.self))
        let transposedWeight = Tensor(uninitializedShape: [k * outChannels], dtype: .float32)
        let wt = transposedWeight.storage.pointer(Float.self)
        transposeMatrix(rows: outChannels, columns: k, w, stride: k, into: wt, stride: outChannels)
        let staging = Tensor(uninitializedShape: [g.batch * plane * outChannels], dtype: .float32)
        let positionMajor = staging.storage.pointer(Float.self)
        let offsets = filterOffsets(g)
        offsets.withUnsafeBufferPointer { offsets in
            ConvolutionKernels.forEachBatchChunk(g, parts: ConvolutionKernels.chunkParts(g), imagesPerChunk: chunk(g)) { _, images in
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: images.count * plane) { windows in
                    var position = 0
                    for n in images {
                        for i in 0..<g.outputHeight {
                            for j in 0..<g.outputWidth {
                                windows[position] = xp + positionOffset(image: n, row: i, column: j, g)
                                position += 1
                            }
                        }
                    }
                    let result = positionMajor + images.lowerBound * plane * outChannels
                    ck_sgemm_gathered(images.count * plane, outChannels, k, 1, windows.baseAddress!, offsets.baseAddress!,
                                      wt, outChannels, 0, result, outChannels)
                    for n in images {
                        transposeMatrix(rows: plane, columns: outChannels, positionMajor + n * plane * outChannels,
                                        stride: outChannels, into: y + n * outChannels * plane, stride: plane)
                    }
                }
            }
        }
        withExtendedLifetime((input, transposedWeight, staging)) {}
    }

    /// `∂⟨conv(x, W), gy⟩/∂W` for Float geometries that ``apply(_:_:)`` accepts, into `w` (`[O, C, kH, kW]`).
    static func weightGradient(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>,
                               _ g: Conv2dGeometry) {
        let (k, outChannels, plane) = (g.patchSize, g.outChannels, g.outputPlane)
        let input = padded(x, g)
        let xp = UnsafePointer(input.storage.pointer(Float.self))
        let staging = Tensor(uninitializedShape: [g.batch * plane * outChannels], dtype: .float32)
        let positionMajor = staging.storage.pointer(Float.self)
        // Each part sums its images into its own `[k, O]` slice.
        let parts = ConvolutionKernels.chunkParts(g)
        let partials = Tensor.zeros([parts, k * outChannels], dtype: .float32)
        let sums = partials.storage.pointer(Float.self)
        let windows = filterOffsets(g).map { Optional(xp + Int($0)) }
        windows.withUnsafeBufferPointer { windows in
            ConvolutionKernels.forEachBatchChunk(g, parts: parts, imagesPerChunk: chunk(g)) { part, images in
                for n in images {
                    transposeMatrix(rows: outChannels, columns: plane, gy + n * outChannels * plane, stride: plane,
                                    into: positionMajor + n * plane * outChannels, stride: outChannels)
                }
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: images.count * plane) { offsets in
                    var position = 0
                    for n in images {
                        for i in 0..<g.outputHeight {
                            for j in 0..<g.outputWidth {
                                offsets[position] = Int32(positionOffset(image: n, row: i, column: j, g))
                                position += 1
                            }
                        }
                    }
                    ck_sgemm_gathered(k, outChannels, images.count * plane, 1, windows.baseAddress!, offsets.baseAddress!,
                                      positionMajor + images.lowerBound * plane * outChannels, outChannels, 1,
                                      sums + part * k * outChannels, outChannels)
                }
            }
        }
        for part in 1..<parts {
            let slice = sums + part * k * outChannels
            for i in 0..<(k * outChannels) { sums[i] += slice[i] }
        }
        transposeMatrix(rows: k, columns: outChannels, sums, stride: outChannels, into: w, stride: k)
        withExtendedLifetime((input, staging, partials)) {}
    }
}
