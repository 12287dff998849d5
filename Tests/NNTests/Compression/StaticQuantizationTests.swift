import Foundation
import Testing
@testable import AutoGrad
@testable import NN

/// One convolution to quantise: its hyper-parameters and an input size.
struct Int8ConvolutionCase: CustomStringConvertible {
    let inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int)
    let padding: Conv2dPadding, dilation: (Int, Int), groups: Int
    let batch: Int, height: Int, width: Int

    var description: String {
        "\(inChannels)→\(outChannels) k\(kernelSize) s\(stride) p\(padding) d\(dilation) g\(groups) on \(batch)×\(height)×\(width)"
    }

    func conv(_ generator: RandomGenerator) -> Conv2d {
        Conv2d(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
               groups: groups, generator: generator)
    }

    /// Depths 9 (the W2 layer), 18, 24, 200 and 320 cross every step of the int8 kernel (1, 16, 32, 64 bytes); the
    /// cases cover stride, explicit and `same` padding, dilation, groups and a depthwise convolution.
    static let all = [
        Int8ConvolutionCase(inChannels: 1, outChannels: 32, kernelSize: (3, 3), stride: (1, 1), padding: .valid,
                            dilation: (1, 1), groups: 1, batch: 2, height: 28, width: 28),
        Int8ConvolutionCase(inChannels: 3, outChannels: 8, kernelSize: (3, 3), stride: (2, 2), padding: 1,
                            dilation: (1, 1), groups: 1, batch: 2, height: 9, width: 11),
        Int8ConvolutionCase(inChannels: 4, outChannels: 6, kernelSize: (3, 2), stride: (1, 2), padding: .explicit(2, 1),
                            dilation: (2, 1), groups: 2, batch: 3, height: 8, width: 7),
        Int8ConvolutionCase(inChannels: 6, outChannels: 6, kernelSize: (3, 3), stride: (1, 1), padding: .same,
                            dilation: (1, 1), groups: 6, batch: 1, height: 5, width: 5),
        Int8ConvolutionCase(inChannels: 8, outChannels: 5, kernelSize: (5, 5), stride: (1, 1), padding: 2,
                            dilation: (1, 1), groups: 1, batch: 1, height: 6, width: 6),
        Int8ConvolutionCase(inChannels: 20, outChannels: 4, kernelSize: (4, 4), stride: (3, 3), padding: 1,
                            dilation: (1, 1), groups: 1, batch: 2, height: 10, width: 10),
        // Taps a kernel row apart or more than 8 wide: the unfold copies these a byte at a time.
        Int8ConvolutionCase(inChannels: 2, outChannels: 3, kernelSize: (2, 3), stride: (1, 1), padding: 1,
                            dilation: (1, 2), groups: 1, batch: 2, height: 6, width: 9),
        Int8ConvolutionCase(inChannels: 1, outChannels: 9, kernelSize: (1, 9), stride: (2, 1), padding: .valid,
                            dilation: (1, 1), groups: 1, batch: 2, height: 5, width: 12),
    ]
}

@Suite struct StaticQuantizationTests {
    /// `Σ q·w` over every tap in plain integer loops, padding reading the zero point's code: `[N, O, Ho, Wo]`.
    static func referenceSums(_ layer: StaticQuantizedConv2d, codes: [UInt8], batch: Int, height: Int, width: Int) -> [Int32] {
        let (kh, kw) = layer.kernelSize, (sh, sw) = layer.stride, (dh, dw) = layer.dilation
        let pads = layer.padding.amounts(kernelSize: layer.kernelSize, dilation: layer.dilation)
        let outHeight = (height + pads.top + pads.bottom - dh * (kh - 1) - 1) / sh + 1
        let outWidth = (width + pads.left + pads.right - dw * (kw - 1) - 1) / sw + 1
        let (perGroupIn, perGroupOut) = (layer.inChannels / layer.groups, layer.outChannels / layer.groups)
        let w = layer.weights.values, zero = Int(layer.input.zeroPoint)
        var sums = [Int32](repeating: 0, count: batch * layer.outChannels * outHeight * outWidth)
        for n in 0..<batch {
            for o in 0..<layer.outChannels {
                let group = o / perGroupOut
                for i in 0..<outHeight {
                    for j in 0..<outWidth {
                        var sum = 0
                        for c in 0..<perGroupIn {
                            for a in 0..<kh {
                                for b in 0..<kw {
                                    let (r, s) = (i * sh - pads.top + a * dh, j * sw - pads.left + b * dw)
                                    let inside = r >= 0 && r < height && s >= 0 && s < width
                                    let code = inside ? Int(codes[((n * layer.inChannels + group * perGroupIn + c) * height + r) * width + s]) : zero
                                    sum += code * Int(w[((o * perGroupIn + c) * kh + a) * kw + b])
                                }
                            }
                        }
                        sums[((n * layer.outChannels + o) * outHeight + i) * outWidth + j] = Int32(sum)
                    }
                }
            }
        }
        return sums
    }

    /// The codes of `x` under `layer`'s input map.
    static func codes(_ layer: StaticQuantizedConv2d, _ x: Tensor) -> [UInt8] {
        let values = x.floats
        var codes = [UInt8](repeating: 0, count: values.count)
        layer.input.quantize(values, &codes, count: values.count)
        return codes
    }

    /// The integer convolution against plain loops, bit for bit, at the calling thread's level (the level suites in
    /// KernelLevelTests run it at every level this CPU has). The input map is narrower than the data, so codes 0 and
    /// 255 occur; a constant input above the range with constant negative filters gives the largest sums.
    @Test func integerSumsMatchThePlainLoop() {
        let generator = RandomGenerator(seed: 31)
        for example in Int8ConvolutionCase.all {
            let conv = example.conv(generator)
            let shape = [example.batch, example.inChannels, example.height, example.width]
            let layer = StaticQuantizedConv2d(conv, input: ActivationQuantization(low: -1, high: 1.5))
            for x in [Tensor.randn(shape, generator: generator) * 1.5, Tensor.ones(shape) * 9] {
                let (sums, outShape) = layer.integerSums(x)
                let expected = Self.referenceSums(layer, codes: Self.codes(layer, x), batch: example.batch,
                                                  height: example.height, width: example.width)
                #expect(outShape == layer(Variable(x)).shape)
                #expect(sums == expected, "\(example) at \(InstructionSet.active): first difference at \(zip(sums, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
            }
            conv.weight.value = Tensor.ones(conv.weight.shape) * -0.5
            let extreme = StaticQuantizedConv2d(conv, input: ActivationQuantization(low: -1, high: 1.5))
            let x = Tensor.ones(shape) * 9
            #expect(extreme.integerSums(x).sums == Self.referenceSums(extreme, codes: Self.codes(extreme, x), batch: example.batch,
                                                                      height: example.height, width: example.width),
                    "\(example), extreme bytes, at \(InstructionSet.active)")
        }
    }

    /// The layer's output is `s·scale[o]·(Σ q·w − z·rowSum[o]) + b[o]` of those sums (in Double, to Float's rounding),
    /// and within the quantisation error of the Float convolution when the map covers the input.
    @Test func outputIsTheDequantisedSum() {
        let generator = RandomGenerator(seed: 32)
        for example in Int8ConvolutionCase.all {
            let conv = example.conv(generator)
            let x = Tensor.randn([example.batch, example.inChannels, example.height, example.width], generator: generator)
            var observer = MinMaxObserver()
            observer.observe(x)
            let layer = StaticQuantizedConv2d(conv, input: observer.quantization)
            let output = layer(Variable(x, requiresGrad: true))
            #expect(!output.requiresGrad)
            let y = output.value
            let float = conv(Variable(x)).value.floats
            let (sums, shape) = layer.integerSums(x)
            let plane = shape[2] * shape[3]
            let (s, z) = (Double(layer.input.scale), Double(layer.input.zeroPoint))
            let bias = conv.bias!.value.floats
            let depth = Double(example.inChannels / example.groups * example.kernelSize.0 * example.kernelSize.1)
            let largestInput = Double(x.abs().max().item), largestWeight = Double(conv.weight.value.abs().max().item)
            for (index, value) in y.floats.enumerated() {
                let o = index / plane % example.outChannels
                let scale = Double(layer.weights.scales[o])
                let expected = s * scale * (Double(sums[index]) - z * Double(layer.weights.rowSums[o])) + Double(bias[o])
                #expect(Swift.abs(Double(value) - expected) <= 1e-5 * Swift.max(1, Swift.abs(expected)), "\(example) at \(index)")
                // Each product is off by at most half a step of each factor (and the product of those halves).
                let bound = depth * (s / 2 * largestWeight + scale / 2 * largestInput + s * scale / 4) + 1e-5
                #expect(Swift.abs(Double(value) - Double(float[index])) <= bound, "\(example) at \(index) against Float")
            }
        }
    }

    /// The dequantisation into planes (CKernels' `ck_dequantize_planes_s32`), pooled or not, equals the row-major
    /// Swift loop's outputs transposed — and pooled as Floats — exactly, for output counts around the kernel's 8 × 8
    /// blocks, odd plane sizes, and outputs that start past the first.
    @Test func planesMatchTheRowMajorDequantisation() {
        let generator = RandomGenerator(seed: 42)
        for (outputs, height, width) in [(1, 1, 1), (5, 3, 3), (8, 4, 4), (13, 7, 6), (32, 5, 9), (19, 2, 17), (3, 16, 2)] {
            let (first, positions) = (2, height * width)
            let weights = Int8Weights(quantizing: Tensor.randn([first + outputs + 1, 7], generator: generator))
            let bias = Tensor.randn([first + outputs + 1], generator: generator).floats
            let sums = (Tensor.randn([positions * outputs], generator: generator) * 30_000).floats.map { Int32($0) }
            for floor in [-Float.infinity, 0] {
                let dequantization = ProductDequantization(activation: ActivationQuantization(low: -2, high: 3), weights: weights,
                                                           bias: bias, floor: floor)
                var rows = [Float](repeating: .nan, count: positions * outputs)
                sums.withUnsafeBufferPointer { sums in
                    dequantization.apply(sums.baseAddress!, rows: positions, outputs: first..<first + outputs, into: &rows,
                                         rowStride: outputs)
                }
                for pooled in [false, true] {
                    let (planeHeight, planeWidth) = pooled ? (height / 2, width / 2) : (height, width)
                    var expected = [Float](repeating: 0, count: outputs * planeHeight * planeWidth)
                    for c in 0..<outputs {
                        for i in 0..<planeHeight {
                            for j in 0..<planeWidth {
                                let window = pooled ? [(2 * i, 2 * j), (2 * i, 2 * j + 1), (2 * i + 1, 2 * j), (2 * i + 1, 2 * j + 1)] : [(i, j)]
                                expected[(c * planeHeight + i) * planeWidth + j] = window.map { rows[($0.0 * width + $0.1) * outputs + c] }.max()!
                            }
                        }
                    }
                    var planes = [Float](repeating: .nan, count: expected.count + 1)
                    sums.withUnsafeBufferPointer { sums in
                        planes.withUnsafeMutableBufferPointer { planes in
                            dequantization.applyToPlanes(sums.baseAddress!, height: height, width: width, outputs: first..<first + outputs,
                                                         maxPool2x2: pooled, into: planes.baseAddress!)
                        }
                    }
                    #expect(Array(planes.prefix(expected.count)) == expected && planes.last!.isNaN,
                            "\(outputs) outputs, \(height)×\(width), floor \(floor), pooled \(pooled) at \(InstructionSet.active)")
                }
            }
        }
    }

    @Test func observerKeepsTheRangeOfEveryBatch() {
        var observer = MinMaxObserver()
        observer.observe(Tensor([Float(0.5), 2, -0.25]))
        observer.observe(Tensor(shape: [2, 2], scalars: [Float(1), .nan, -3, 0.5]))
        #expect(observer.low == -3 && observer.high == 2 && observer.batches == 2)
        #expect(observer.quantization == ActivationQuantization(low: -3, high: 2))
        var positive = MinMaxObserver()
        positive.observe(Tensor([Float(0.5), 2.55]))
        #expect(positive.low == 0.5 && positive.quantization.zeroPoint == 0)   // widened to hold 0
    }

    /// The W2-like model: calibration gives each convolution the range of what reaches it.
    @Test func calibrationGivesTheObservedRanges() {
        let generator = RandomGenerator(seed: 33)
        let model = Sequential(Conv2d(2, 4, kernelSize: 3, generator: generator), ReLU(),
                               Sequential(Conv2d(4, 3, kernelSize: 3, padding: 1, generator: generator)), Flatten(),
                               Linear(3 * 6 * 6, 5, generator: generator))
        let batches = (0..<3).map { Tensor.randn([2 + $0, 2, 8, 8], generator: generator) * Double($0 + 1) }
        let int8 = quantizeStatic(model, calibration: batches)
        let first = int8[0] as! StaticQuantizedConv2d
        let second = (int8[2] as! Sequential)[0] as! StaticQuantizedConv2d
        // The ReLU after the first convolution is fused into it; the nested convolution has none after it.
        #expect(first.fusion == .init(relu: true) && int8[1] is Identity && second.fusion == .init())
        #expect(int8[4] is DynamicQuantizedLinear && int8.parameterCount == 0)
        let inputs = batches.flatMap(\.floats)
        #expect(first.input == ActivationQuantization(low: inputs.min()!, high: inputs.max()!))
        let hidden = batches.flatMap { relu(model[0](Variable($0))).value.floats }
        #expect(second.input == ActivationQuantization(low: hidden.min()!, high: hidden.max()!))

        let x = Variable(batches[1])
        let error = (int8(x).value - model(x).value).abs().max().item
        #expect(error < 0.1, "int8 and Float outputs differ by \(error)")
        #expect(int8[0](Variable(Tensor.randn([2, 8, 8]))).shape == [4, 6, 6])   // an unbatched image
    }

    /// A fused ReLU and 2 × 2 max pool give exactly the unfused layer's output through ReLU and MaxPool2d, odd output
    /// sizes included (the last row and column dropped).
    @Test func fusedReLUAndPoolingEqualTheLayers() {
        let generator = RandomGenerator(seed: 38)
        let conv = Conv2d(2, 5, kernelSize: 3, padding: 1, generator: generator)
        let x = Tensor.randn([3, 2, 7, 6], generator: generator)
        var observer = MinMaxObserver()
        observer.observe(x)
        let plain = StaticQuantizedConv2d(conv, input: observer.quantization)
        let y = plain(Variable(x))
        #expect(y.value.floats.contains { $0 < 0 })
        let pool = MaxPool2d(kernelSize: 2)
        for (fusion, expected) in [(StaticQuantizedConv2d.Fusion(relu: true), relu(y)), (.init(maxPool2x2: true), pool(y)),
                                   (.init(relu: true, maxPool2x2: true), pool(relu(y)))] {
            let fused = StaticQuantizedConv2d(conv, input: observer.quantization, fusing: fusion)
            let got = fused(Variable(x))
            #expect(got.shape == expected.shape && got.value == expected.value, "\(fusion)")
            #expect(fused.summary.contains("fused") && !plain.summary.contains("fused"))
        }
        #expect(StaticQuantizedConv2d(conv, input: observer.quantization, fusing: .init(maxPool2x2: true))(Variable(x)).shape == [3, 5, 3, 3])
    }

    /// Only a ReLU or a 2 × 2 stride-2 max pool directly after a convolution in the same Sequential is fused (not a
    /// LeakyReLU, not a 3 × 3 pool, not a ReLU after a Linear), and the fused model gives the unfused one's output.
    @Test func quantizeStaticFusesTheLayersAfterAConvolution() {
        let generator = RandomGenerator(seed: 39)
        let x = Tensor.randn([3, 2, 12, 12], generator: generator)
        let model = Sequential(Conv2d(2, 3, kernelSize: 3, generator: generator), LeakyReLU(), Conv2d(3, 3, kernelSize: 1, generator: generator),
                               ReLU(), MaxPool2d(kernelSize: 2), ReLU(), Conv2d(3, 3, kernelSize: 1, generator: generator),
                               MaxPool2d(kernelSize: 3), Flatten(), Linear(3 * 1 * 1, 4, generator: generator), ReLU())
        let int8 = quantizeStatic(model, calibration: [x])
        func conv(_ i: Int) -> StaticQuantizedConv2d { int8[i] as! StaticQuantizedConv2d }
        #expect(conv(0).fusion == .init() && int8[1] === model[1])
        #expect(conv(2).fusion == .init(relu: true, maxPool2x2: true) && int8[3] is Identity && int8[4] is Identity)
        #expect(int8[5] === model[5] && conv(6).fusion == .init() && int8[7] === model[7])
        #expect(int8[9] is DynamicQuantizedLinear && int8[10] === model[10])
        let unfused = Sequential(StaticQuantizedConv2d(model[0] as! Conv2d, input: conv(0).input), model[1],
                                 StaticQuantizedConv2d(model[2] as! Conv2d, input: conv(2).input), ReLU(), MaxPool2d(kernelSize: 2),
                                 model[5], StaticQuantizedConv2d(model[6] as! Conv2d, input: conv(6).input), model[7], model[8], int8[9], model[10])
        #expect(int8(Variable(x)).value == unfused(Variable(x)).value)
    }

    /// A small W2-like model, quantised statically.
    static func quantizedModel(_ seed: UInt64, channels: Int = 4) -> (float: Sequential, int8: Sequential) {
        let generator = RandomGenerator(seed: seed)
        let model = Sequential(Conv2d(1, channels, kernelSize: 3, stride: 2, padding: 1, generator: generator), ReLU(),
                               Flatten(), Linear(channels * 4 * 4, 3, generator: generator))
        return (model, quantizeStatic(model, calibration: [Tensor.randn([4, 1, 8, 8], generator: generator)]))
    }

    @Test func staticModelsSaveAsInt8AndReload() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qs-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let (_, model) = Self.quantizedModel(34)
        try model.saveQuantized(to: url)
        let stored = try SafeTensors.readStored(from: url).tensors
        #expect(Set(stored.keys) == ["0.weight", "0.weight_scale", "0.bias", "0.input_scale", "0.input_zero_point",
                                     "3.weight", "3.weight_scale", "3.bias"])
        #expect(stored["0.weight"]?.shape == [4, 1, 3, 3] && stored["0.input_scale"]?.shape == [])

        let (_, copy) = Self.quantizedModel(35)   // other weights and ranges, the same structure
        let x = Variable(Tensor.randn([3, 1, 8, 8]))
        #expect(copy(x).value.floats != model(x).value.floats)
        try copy.loadQuantized(from: url)
        #expect((copy[0] as! StaticQuantizedConv2d).input == (model[0] as! StaticQuantizedConv2d).input)
        #expect(copy(x).value.floats == model(x).value.floats)
    }

    @Test func badOrMismatchedFilesThrowTypedErrors() throws {
        let (_, model) = Self.quantizedModel(36)
        let good = model.quantizedStateDict()
        func loading(into target: Sequential = Self.quantizedModel(37).int8, _ change: (inout [String: StoredTensor]) -> Void) -> Error? {
            var state = good
            change(&state)
            do { try target.loadQuantizedStateDict(state); return nil } catch { return error }
        }
        #expect(loading { _ in } == nil)
        #expect(loading { $0["0.input_scale"] = nil } as? QuantizedStateError == .missingKey(key: "0.input_scale"))
        #expect(loading { $0["0.input_zero_point"] = .integer(IntTensor(scalar: 300)) } as? QuantizedStateError
                == .invalidValue(key: "0.input_zero_point", reason: "zero point 300 is outside 0…255"))
        #expect(loading { $0["0.input_scale"] = .float(Tensor(Float(0))) } is QuantizedStateError)
        #expect(loading { $0["0.input_scale"] = .float(Tensor([Float(1)])) } as? QuantizedStateError
                == .shapeMismatch(key: "0.input_scale", expected: [], found: [1]))
        #expect(loading { $0["0.input_zero_point"] = .float(Tensor(Float(3))) } as? QuantizedStateError
                == .wrongType(key: "0.input_zero_point", expected: "an integer tensor"))
        #expect(loading { $0["0.weight"] = .int8(shape: [4, 9], values: [Int8](repeating: 1, count: 36)) } as? QuantizedStateError
                == .shapeMismatch(key: "0.weight", expected: [4, 1, 3, 3], found: [4, 9]))
        // A model of another width, and a dynamically quantised one (no input map), do not take this state.
        #expect(loading(into: Self.quantizedModel(38, channels: 5).int8) { _ in } as? QuantizedStateError
                == .shapeMismatch(key: "0.weight", expected: [5, 1, 3, 3], found: [4, 1, 3, 3]))
        let dynamic = quantizeDynamic(Self.quantizedModel(39).float)
        #expect(loading(into: dynamic) { _ in } is LoadStateDictError)

        // A damaged file: cut short, it fails in the reader with its own typed error.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qs-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.saveQuantized(to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 7).write(to: url)
        #expect(throws: SafeTensorsError.self) { try Self.quantizedModel(40).int8.loadQuantized(from: url) }
    }

    /// Against PyTorch's quantised convolution (fbgemm) on the same codes and int8 weights: torch requantises its
    /// output to bytes, so the two agree within one of its output steps. Codes stay below 128, where fbgemm's
    /// vpmaddubsw cannot saturate.
    @Test(.enabled(if: TorchLayerReference.isAvailable, "python3 cannot import torch"))
    func matchesPyTorchsQuantizedConvolution() throws {
        let generator = RandomGenerator(seed: 41)
        for example in Int8ConvolutionCase.all {
            let conv = example.conv(generator)
            let x = Tensor.uniform([example.batch, example.inChannels, example.height, example.width], low: -1, high: 0.99,
                                   generator: generator)
            // Scale 0.02, zero point 50: the codes of [−1, 0.99] are 0…100.
            let layer = StaticQuantizedConv2d(conv, input: ActivationQuantization(low: -1, high: 4.1))
            let y = layer(Variable(x)).value.floats
            let outputScale = Double((y.map(Swift.abs).max() ?? 1) * 2 / 255)
            let request: [String: Any] = [
                "x": x.floats.map(Double.init), "x_shape": x.shape, "scale": Double(layer.input.scale),
                "zero_point": Int(layer.input.zeroPoint), "w": layer.weights.values.map(Int.init),
                "w_shape": conv.weight.shape, "w_scales": layer.weights.scales.map(Double.init),
                "bias": conv.bias!.value.floats.map(Double.init), "stride": [example.stride.0, example.stride.1],
                "padding": {
                    let p = example.padding.amounts(kernelSize: example.kernelSize, dilation: example.dilation)
                    return [p.top, p.left]
                }(), "dilation": [example.dilation.0, example.dilation.1], "groups": example.groups,
                "out_scale": outputScale,
            ]
            guard let answer = try TorchLayerReference.run(script: Self.torchScript, request) else { return }
            let torch = (answer["y"] as! [Double])
            #expect(torch.count == y.count, "\(example)")
            let worst = zip(torch, y).map { Swift.abs($0 - Double($1)) }.max() ?? 0
            #expect(worst <= outputScale * 1.01, "\(example): worst difference \(worst), output step \(outputScale)")
        }
    }

    private static let torchScript = """
    import json, sys, torch
    r = json.load(sys.stdin)
    torch.backends.quantized.engine = "fbgemm"
    x = torch.tensor(r["x"], dtype=torch.float32).reshape(r["x_shape"])
    qx = torch.quantize_per_tensor(x, r["scale"], r["zero_point"], torch.quint8)
    scales = torch.tensor(r["w_scales"], dtype=torch.float64)
    w = torch.tensor(r["w"], dtype=torch.float32).reshape(r["w_shape"]) * scales.float().reshape(-1, 1, 1, 1)
    qw = torch.quantize_per_channel(w, scales, torch.zeros(len(r["w_scales"]), dtype=torch.int64), 0, torch.qint8)
    shape = r["w_shape"]
    m = torch.ao.nn.quantized.Conv2d(shape[1] * r["groups"], shape[0], (shape[2], shape[3]), stride=r["stride"],
                                     padding=r["padding"], dilation=r["dilation"], groups=r["groups"])
    m.set_weight_bias(qw, torch.tensor(r["bias"], dtype=torch.float32))
    m.scale, m.zero_point = r["out_scale"], 128
    json.dump({"y": m(qx).dequantize().flatten().tolist()}, sys.stdout)
    """

    @Test func wrongInputsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = StaticQuantizedConv2d(Conv2d(2, 3, kernelSize: 3), input: ActivationQuantization(low: 0, high: 1))(Variable(Tensor.zeros([1, 3, 5, 5])))
        }
        await #expect(processExitsWith: .failure) {
            _ = StaticQuantizedConv2d(Conv2d(2, 3, kernelSize: 3), input: ActivationQuantization(low: 0, high: 1))(Variable(Tensor.zeros([1, 2, 5, 5], dtype: .float64)))
        }
        await #expect(processExitsWith: .failure) {
            _ = StaticQuantizedConv2d(Conv2d(2, 3, kernelSize: 3), input: ActivationQuantization(low: 0, high: 1))(Variable(Tensor.zeros([1, 2, 2, 2])))
        }
        await #expect(processExitsWith: .failure) { _ = quantizeStatic(Sequential(Conv2d(1, 1, kernelSize: 1)), calibration: [Tensor]()) }
    }
}
