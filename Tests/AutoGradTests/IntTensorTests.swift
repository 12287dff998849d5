import Foundation
import Testing
@testable import AutoGrad

@Suite struct IntTensorTests {
    @Test func creationShapeAndElements() {
        let t = IntTensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(t.rank == 2 && t.count == 6)
        #expect(IntTensor([7, 8]).shape == [2])
        #expect(IntTensor(scalar: -4).shape == [] && IntTensor(scalar: -4).item == -4)
        #expect(IntTensor(repeating: 3, shape: [2, 2]).values == [3, 3, 3, 3])
        #expect(IntTensor(shape: [0, 5]).values.isEmpty)
        #expect(IntTensor.arange(4).values == [0, 1, 2, 3])
        // The old name still works.
        let indices: TensorIndices = TensorIndices(shape: [1, 2], values: [0, 1])
        #expect(indices == IntTensor(shape: [1, 2], values: [0, 1]))
    }

    @Test func reshapingAndRows() {
        let t = IntTensor(shape: [3, 2], values: [0, 1, 2, 3, 4, 5])
        #expect(t.reshaped([2, -1]) == IntTensor(shape: [2, 3], values: [0, 1, 2, 3, 4, 5]))
        #expect(t.rows(1..<3) == IntTensor(shape: [2, 2], values: [2, 3, 4, 5]))
        #expect(t.rows(2..<2).shape == [0, 2])
        #expect(t[row: 1] == IntTensor([2, 3]))
        #expect(IntTensor([9, 8, 7])[row: 2] == IntTensor(scalar: 7))
    }

    @Test func conversionToAndFromTensorIsChecked() {
        let t = IntTensor(shape: [2, 2], values: [-3, 0, 5, 1 << 40])
        let asDouble = Tensor(t, dtype: .float64)
        #expect(asDouble.shape == [2, 2] && asDouble.doubles == [-3, 0, 5, Double(1 << 40)])
        #expect(IntTensor(exactly: asDouble) == t)
        #expect(Tensor(IntTensor([1, 2])).dtype == .float32)
        #expect(IntTensor(exactly: Tensor([0.0, 1.5])) == nil)
        #expect(IntTensor(exactly: Tensor([Double.nan])) == nil)
        #expect(IntTensor(exactly: Tensor([Double.infinity])) == nil)
        #expect(IntTensor(exactly: Tensor([1e300])) == nil)
        #expect(IntTensor(exactly: Tensor(shape: [0], scalars: [] as [Float])) == IntTensor([]))
    }

    @Test func descriptionLooksLikePyTorch() {
        #expect(IntTensor(shape: [2, 2], values: [1, 2, 3, -4]).description == "tensor([[1, 2], [3, -4]], dtype=int64)")
        #expect(IntTensor(scalar: 5).description == "tensor(5, dtype=int64)")
        #expect(IntTensor(repeating: 0, shape: [2000]).description == "IntTensor(shape: [2000], dtype: int64)")
    }

    @Test func safeTensorsRoundTripAsI64() throws {
        let ids = IntTensor(shape: [2, 3], values: [0, -1, Int.max, Int.min, 42, 7])
        let bytes = SafeTensors.encode(stored: ["ids": .integer(ids), "w": .float(Tensor([Float(0.5)]))])
        let header = String(decoding: bytes[8..<(8 + Int(bytes[8 - 8]))], as: UTF8.self)
        #expect(header.contains(#""ids":{"dtype":"I64","shape":[2,3]"#))
        let decoded = try SafeTensors.decodeStored(bytes)
        #expect(decoded.tensors["ids"] == .integer(ids))
        #expect(decoded.tensors["w"] == .float(Tensor([Float(0.5)])))
        // The floating-point view refuses integers it cannot hold exactly …
        #expect(throws: SafeTensorsError.integerNotRepresentable(path: "<memory>", tensor: "ids", value: Int.max)) {
            try SafeTensors.decode(bytes)
        }
        // … and converts those it can.
        let small = SafeTensors.encode(stored: ["n": .integer(IntTensor(scalar: 1 << 53))])
        #expect(try SafeTensors.decode(small).tensors["n"] == Tensor(Double(1 << 53)))
    }
}

/// A file: 8-byte little-endian length, the header, then `data`.
private func file(_ header: String, _ data: [UInt8]) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
}

private func one(_ dtype: String, _ shape: Int, _ bytes: Int) -> String {
    #"{"t":{"dtype":"\#(dtype)","shape":[\#(shape)],"data_offsets":[0,\#(bytes)]}}"#
}

/// The dtypes PyTorch checkpoints hold besides F32 and F64, decoded from their bytes.
@Suite struct SafeTensorsDTypeTests {
    @Test func integerDTypes() throws {
        func stored(_ dtype: String, _ n: Int, _ data: [UInt8]) throws -> StoredTensor? {
            try SafeTensors.decodeStored(file(one(dtype, n, data.count), data)).tensors["t"]
        }
        #expect(try stored("I64", 2, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 5, 0, 0, 0, 0, 0, 0, 0]) == .integer(IntTensor([-1, 5])))
        #expect(try stored("I32", 2, [0xFE, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0]) == .integer(IntTensor([-2, 256])))
        #expect(try stored("I16", 2, [0x00, 0x80, 3, 0]) == .integer(IntTensor([-32768, 3])))
        #expect(try stored("I8", 2, [0x80, 0x7F]) == .integer(IntTensor([-128, 127])))
        #expect(try stored("U8", 2, [0xFF, 0]) == .integer(IntTensor([255, 0])))
        #expect(try stored("BOOL", 3, [1, 0, 1]) == .integer(IntTensor([1, 0, 1])))
        // The float view converts them.
        #expect(try SafeTensors.decode(file(one("I32", 1, 4), [7, 0, 0, 0])).tensors["t"] == Tensor([7.0]))
    }

    @Test func aBoolByteOtherThanZeroOrOneIsRefused() {
        #expect(throws: SafeTensorsError.invalidElement(path: "<memory>", tensor: "t", index: 1, reason: "BOOL byte 2 is neither 0 nor 1")) {
            try SafeTensors.decodeStored(file(one("BOOL", 2, 2), [0, 2]))
        }
    }

    @Test func halfPrecisionWidensExactlyToFloat32() throws {
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001, inf = 0x7C00.
        let f16 = try SafeTensors.decode(file(one("F16", 5, 10), [0x00, 0x3C, 0x00, 0xC1, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x7C])).tensors["t"]!
        #expect(f16.dtype == .float32)
        #expect(f16.scalars(as: Float.self) == [1, -2.5, 65504, 0x1p-24, .infinity])
        // BF16: the top half of a float32: 1.0 = 0x3F80, -3.0 = 0xC040, 1e38-ish = 0x7F00.
        let bf16 = try SafeTensors.decode(file(one("BF16", 3, 6), [0x80, 0x3F, 0x40, 0xC0, 0x00, 0x7F])).tensors["t"]!
        #expect(bf16.scalars(as: Float.self) == [1, -3, Float(bitPattern: 0x7F00_0000)])
        // Offsets are checked against each dtype's own size.
        #expect(throws: SafeTensorsError.invalidOffsets(path: "<memory>", tensor: "t", begin: 0, end: 4, expectedBytes: 2)) {
            try SafeTensors.decode(file(one("BF16", 1, 4), [0, 0, 0, 0]))
        }
    }

    /// PyTorch's own writer, for every dtype it stores that is read here (skipped when torch or safetensors is missing).
    @Test func filesWrittenByPyTorchInEveryDTypeLoad() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dtypes-\(UUID().uuidString).safetensors")
        let script = """
        import torch
        from safetensors.torch import save_file
        v = torch.tensor([[-1.5, 0.25, 3.0], [1024.0, -0.0, 7.0]])
        save_file({"f64": v.double(), "f32": v, "f16": v.half(), "bf16": v.bfloat16(), "i64": v.long(),
                   "i32": v.int(), "i16": v.short(), "i8": v.to(torch.int8), "u8": v.abs().to(torch.uint8) % 200,
                   "b": v > 0}, "\(url.path)")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            print("SafeTensorsDTypeTests: skipped the PyTorch dtype check: python3 cannot be run")
            return
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            print("SafeTensorsDTypeTests: skipped the PyTorch dtype check: python3 with torch and safetensors is not available")
            return
        }
        let (t, _) = try SafeTensors.readStored(from: url)
        let values: [Double] = [-1.5, 0.25, 3, 1024, 0, 7]
        for name in ["f64", "f32", "f16", "bf16"] {
            guard case .float(let x)? = t[name] else { Issue.record("\(name) is not floating-point"); continue }
            #expect(x.shape == [2, 3] && x.doubles == values, "\(name)")
        }
        let truncated = [-1, 0, 3, 1024, 0, 7]
        for name in ["i64", "i32", "i16"] { #expect(t[name] == .integer(IntTensor(shape: [2, 3], values: truncated)), "\(name)") }
        #expect(t["i8"] == .integer(IntTensor(shape: [2, 3], values: [-1, 0, 3, 0, 0, 7])))   // 1024 wraps to 0 in int8
        #expect(t["u8"] == .integer(IntTensor(shape: [2, 3], values: [1, 0, 3, 0, 0, 7])))
        #expect(t["b"] == .integer(IntTensor(shape: [2, 3], values: [0, 1, 1, 1, 0, 1])))
    }
}
