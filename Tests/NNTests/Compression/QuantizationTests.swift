import Foundation
import Testing
@testable import AutoGrad
@testable import NN

@Suite struct QuantizationTests {
    @Test func weightsAreSymmetricPerRow() {
        let w = Tensor(shape: [3, 4], scalars: [0.5, -1.27, 0.01, 0, 0, 0, 0, 0, 3, 2, -1, 0.004] as [Float])
        let q = Int8Weights(quantizing: w)
        #expect(q.scales == [Float(1.27) / 127, 1, Float(3) / 127])
        #expect(q.values.allSatisfy { $0 >= -127 })
        #expect(Array(q.values[0..<4]) == [50, -127, 1, 0] && Array(q.values[8..<12]) == [127, 85, -42, 0])
        for (a, b) in zip(q.dequantized().floats, w.floats) { #expect(Swift.abs(a - b) <= 3 / 127 / 2 + 1e-6) }
    }

    @Test func activationRangeHoldsZeroAndRoundTrips() {
        let map = ActivationQuantization(low: 0.5, high: 2.55)   // widened to [0, 2.55]
        #expect(map.zeroPoint == 0 && Swift.abs(map.scale - 0.01) < 1e-8)
        let signed = ActivationQuantization(low: -1, high: 3)
        #expect(signed.zeroPoint == 64)
        let x: [Float] = [-1, 0, 0.013, 3, 7]
        var q = [UInt8](repeating: 0, count: x.count)
        signed.quantize(x, &q, count: x.count)
        #expect(q == [0, 64, 65, 255, 255])   // 7 is clamped
        // Seven bits (a dynamic Linear's map): half the steps of twice the size, codes up to 127.
        let seven = ActivationQuantization(low: -1, high: 3, largestCode: 127)
        #expect(seven.zeroPoint == 32 && seven.scale == 4 / 127 && seven.largestCode == 127)
        seven.quantize(x, &q, count: x.count)
        #expect(q == [0, 32, 32, 127, 127])
    }

    /// The range a dynamic map is chosen from skips NaN and is the plain fold's at every count around the sixteen
    /// lanes it runs in, with the extremes and NaNs in the vector part and in the tail.
    @Test func extremesSkipNaNAndMatchThePlainFold() {
        let g = RandomGenerator(seed: 23)
        for count in [0, 1, 15, 16, 17, 47, 100] {
            var x = Tensor.randn([count], generator: g).floats
            for (index, value) in [(3, Float.nan), (count - 1, .nan), (count / 2, -9), (count - 2, 11), (20, .infinity)]
            where index >= 0 && index < count { x[index] = value }
            let plain = x.filter { !$0.isNaN }
            let (low, high) = ActivationQuantization.extremes(x, count: count)
            #expect(low == (plain.min() ?? .infinity) && high == (plain.max() ?? -.infinity), "\(count) values")
        }
        let nans = [Float](repeating: .nan, count: 33)
        #expect(ActivationQuantization.extremes(nans, count: 33) == (.infinity, -.infinity))
    }

    /// The layer against the same arithmetic in Double (quantised activations and weights, exact sums), and
    /// against the Float layer within the quantisation error.
    @Test func dynamicLinearMatchesTheDequantisedProduct() {
        let g = RandomGenerator(seed: 21)
        for (batch, inFeatures, outFeatures) in [(1, 37, 5), (4, 64, 9), (7, 200, 3)] {
            let linear = Linear(inFeatures, outFeatures, generator: g)
            let q = DynamicQuantizedLinear(linear)
            let x = Tensor.randn([batch, inFeatures], generator: g)
            let y = q(Variable(x)).value.floats
            let xs = x.floats
            let map = ActivationQuantization(low: xs.min()!, high: xs.max()!, largestCode: 127)
            var codes = [UInt8](repeating: 0, count: xs.count)
            map.quantize(xs, &codes, count: xs.count)
            let w = q.weights
            let bias = linear.bias!.value.floats
            let float = linear(Variable(x)).value.floats
            for i in 0..<batch {
                for j in 0..<outFeatures {
                    var sum = 0.0
                    for p in 0..<inFeatures {
                        sum += Double(Int(codes[i * inFeatures + p]) - Int(map.zeroPoint)) * Double(w.values[j * inFeatures + p])
                    }
                    let expected = Double(map.scale) * Double(w.scales[j]) * sum + Double(bias[j])
                    #expect(Swift.abs(Double(y[i * outFeatures + j]) - expected) <= 1e-5 * Swift.max(1, Swift.abs(expected)))
                    // Each product is off by at most half a step of each factor.
                    let bound = Double(inFeatures) * (Double(map.scale) * 1.0 + 3 * Double(w.scales[j])) 
                    #expect(Swift.abs(Double(y[i * outFeatures + j] - float[i * outFeatures + j])) <= bound)
                }
            }
        }
    }

    @Test func quantizeDynamicReplacesLinearsAndKeepsShapes() {
        let model = Sequential(Linear(10, 8), ReLU(), Sequential(Linear(8, 4), ReLU()), Linear(4, 3))
        let q = quantizeDynamic(model)
        #expect(q[0] is DynamicQuantizedLinear && q[1] === model[1] && (q[2] as! Sequential)[0] is DynamicQuantizedLinear)
        #expect(q.parameterCount == 0)
        let x = Variable(Tensor.randn([2, 5, 10]))
        #expect(q(x).shape == [2, 5, 3])
        let error = (q(x).value - model(x).value).abs().max().item
        #expect(error < 0.05, "int8 and Float outputs differ by \(error)")
    }

    @Test func quantizedModelsSaveAsInt8AndReload() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("q-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let model = quantizeDynamic(Sequential(Linear(300, 40), ReLU(), Linear(40, 3)))
        try model.saveQuantized(to: url)
        let floatBytes = (300 * 40 + 40 + 40 * 3 + 3) * 4
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        #expect(size < floatBytes / 3, "\(size) bytes against \(floatBytes) in Float")
        let stored = try SafeTensors.readStored(from: url).tensors
        #expect(Set(stored.keys) == ["0.weight", "0.weight_scale", "0.bias", "2.weight", "2.weight_scale", "2.bias"])

        let copy = quantizeDynamic(Sequential(Linear(300, 40), ReLU(), Linear(40, 3)))
        try copy.loadQuantized(from: url)
        let x = Variable(Tensor.randn([4, 300]))
        #expect(copy(x).value.floats == model(x).value.floats)
    }

    @Test func badQuantizedStateThrowsTypedErrors() throws {
        let model = quantizeDynamic(Sequential(Linear(6, 2), ReLU()))
        let good = model.quantizedStateDict()
        func loading(_ change: (inout [String: StoredTensor]) -> Void) -> Error? {
            var state = good
            change(&state)
            do { try quantizeDynamic(Sequential(Linear(6, 2), ReLU())).loadQuantizedStateDict(state); return nil } catch { return error }
        }
        #expect(loading { _ in } == nil)
        #expect(loading { $0["0.weight"] = nil } as? QuantizedStateError == .missingKey(key: "0.weight"))
        #expect(loading { $0["0.weight"] = .float(Tensor.zeros([2, 6])) } as? QuantizedStateError
                == .wrongType(key: "0.weight", expected: "an I8 tensor"))
        #expect(loading { $0["0.weight_scale"] = .float(Tensor.ones([3])) } as? QuantizedStateError
                == .shapeMismatch(key: "0.weight_scale", expected: [2], found: [3]))
        #expect(loading { $0["0.weight"] = .int8(shape: [2, 6], values: [Int8](repeating: -128, count: 12)) } is QuantizedStateError)
        #expect(loading { $0["0.weight"] = .integer(IntTensor(shape: [2, 6], values: [Int](repeating: 300, count: 12))) } is QuantizedStateError)
        #expect(loading { $0["0.weight_scale"] = .float(Tensor([Float(1), -1])) } is QuantizedStateError)
        #expect(loading { $0["0.extra"] = .float(Tensor.ones([1])) } is LoadStateDictError)
    }

    @Test func wrongInputsTrap() async {
        await #expect(processExitsWith: .failure) { _ = DynamicQuantizedLinear(Linear(4, 2))(Variable(Tensor.zeros([3, 5]))) }
        await #expect(processExitsWith: .failure) {
            _ = DynamicQuantizedLinear(Linear(4, 2))(Variable(Tensor.zeros([3, 4], dtype: .float64)))
        }
    }
}
