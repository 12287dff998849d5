import Foundation
import Testing
@testable import AutoGrad

/// A fresh path in a per-test temporary directory.
private func temporaryURL(_ name: String = "t.safetensors") -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

/// A file: 8-byte little-endian length, the header bytes as given, then `data`.
private func rawFile(header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
}

private func decodeError(_ data: Data) -> SafeTensorsError? {
    do {
        _ = try SafeTensors.decode(data, path: "x.safetensors")
        return nil
    } catch let error as SafeTensorsError {
        return error
    } catch {
        return nil
    }
}

@Suite struct SafeTensorsTests {
    @Test func roundTripKeepsValuesShapesDTypesAndMetadata() throws {
        let url = temporaryURL()
        let tensors: [String: Tensor] = [
            "encoder.weight": Tensor.randn([3, 4], generator: RandomGenerator(seed: 1)),
            "encoder.bias": Tensor(shape: [4], scalars: [0.1, -2.5, 1e-30, .infinity] as [Double]),
            "scalar": Tensor(Float(3.5)),
            "empty": Tensor.zeros([0, 3]),
            "name with \"quotes\" and \\ slash": Tensor.ones([1], dtype: .float64),
        ]
        try SafeTensors.write(tensors, metadata: ["format": "pt", "epoch": "7"], to: url)
        let (read, metadata) = try SafeTensors.read(from: url)
        #expect(read == tensors)
        #expect(metadata == ["format": "pt", "epoch": "7"])
        #expect(read["encoder.bias"]!.dtype == .float64)
        #expect(read["scalar"]!.shape == [])
    }

    @Test func writesTheExactBytesOfTheFormat() throws {
        let header = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"# + " "
        #expect(header.utf8.count == 80)   // padded with one space to a multiple of 8
        let expected: [UInt8] = [80, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
            + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]   // 1.0 and -2.0, little-endian float32
        let encoded = SafeTensors.encode(["a": Tensor([Float(1), -2])], metadata: ["k": "v"])
        #expect([UInt8](encoded) == expected)
        let decoded = try SafeTensors.decode(Data(expected))
        #expect(decoded.tensors["a"]! == Tensor([Float(1), -2]))
        #expect(decoded.metadata == ["k": "v"])
    }

    @Test func dataStartsAtAMultipleOfEight() {
        for name in ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"] {
            let bytes = SafeTensors.encode([name: Tensor.ones([3], dtype: .float64)])
            let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect((8 + n) % 8 == 0)
            #expect(bytes.count == 8 + n + 24)
        }
    }

    @Test func missingFileIsTyped() {
        let url = temporaryURL("absent.safetensors")
        #expect(throws: SafeTensorsError.fileNotFound(path: url.path)) { try SafeTensors.read(from: url) }
    }

    @Test func truncatedHeader() {
        #expect(decodeError(Data([1, 2, 3])) == .truncatedHeader(path: "x.safetensors", needed: 8, available: 3))
        let file = rawFile(header: #"{"a":{}}"#, length: 40)
        #expect(decodeError(file) == .truncatedHeader(path: "x.safetensors", needed: 48, available: 16))
    }

    @Test func absurdHeaderLength() {
        let file = rawFile(header: "{}", length: UInt64(1) << 62)
        #expect(decodeError(file) == .headerTooLarge(path: "x.safetensors", length: UInt64(1) << 62))
    }

    @Test func invalidJSONAndMalformedEntries() {
        for header in ["{not json", "[1, 2]", #"{"a": 3}"#, #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
                       #"{"__metadata__":{"k":1}}"#] {
            guard case .invalidHeader(let path, _)? = decodeError(rawFile(header: header, data: [0, 0, 0, 0])) else {
                Issue.record("header \(header) was not rejected as invalid")
                continue
            }
            #expect(path == "x.safetensors")
        }
        var bad = rawFile(header: "{}  ")
        bad[9] = 0xFF   // not UTF-8
        #expect({ if case .invalidHeader? = decodeError(bad) { return true } else { return false } }())
    }

    @Test func unsupportedDTypeIsNamed() {
        for dtype in ["BF16", "I64", "F16", "U8"] {
            let file = rawFile(header: #"{"w":{"dtype":"\#(dtype)","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
            let error = decodeError(file)
            #expect(error == .unsupportedDType(path: "x.safetensors", tensor: "w", dtype: dtype))
            #expect(error?.description.contains(dtype) == true)
        }
    }

    @Test func offsetsThatDoNotMatchTheShape() {
        let data = [UInt8](repeating: 0, count: 16)
        let wrongSize = rawFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}"#, data: data)
        #expect(decodeError(wrongSize) == .invalidOffsets(path: "x.safetensors", tensor: "w", begin: 0, end: 12, expectedBytes: 8))
        let reversed = rawFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: data)
        #expect(decodeError(reversed) == .invalidOffsets(path: "x.safetensors", tensor: "w", begin: 8, end: 0, expectedBytes: 8))
    }

    @Test func offsetsPastTheEndAreTruncatedData() {
        let file = rawFile(header: #"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 10))
        #expect(decodeError(file) == .truncatedData(path: "x.safetensors", tensor: "w", end: 16, available: 10))
        // A real file cut short.
        let whole = SafeTensors.encode(["w": Tensor.ones([4])])
        #expect({ if case .truncatedData? = decodeError(whole.dropLast(3)) { return true } else { return false } }())
    }

    @Test func overlappingTensors() {
        let file = rawFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                           data: Array(repeating: 0, count: 12))
        #expect(decodeError(file) == .overlappingData(path: "x.safetensors", tensor: "b", other: "a"))
    }

    @Test func everyTruncationOfAValidFileThrowsInsteadOfCrashing() {
        let whole = SafeTensors.encode(["a": Tensor.ones([3]), "b": Tensor.zeros([2, 2], dtype: .float64)], metadata: ["m": "1"])
        for n in 0..<whole.count {
            #expect(decodeError(whole.prefix(n)) != nil, "prefix of \(n) bytes was accepted")
        }
    }

    /// Reads a file written by Python's `safetensors.numpy` when that package is installed.
    @Test func readsAFileWrittenByPythonSafetensors() throws {
        let url = temporaryURL()
        let script = """
        import numpy as np
        from safetensors.numpy import save_file
        save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3) / 4, "b": np.array([1.5, -2.0], dtype=np.float64)},
                  "\(url.path)", metadata={"source": "numpy"})
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            print("SafeTensorsTests: skipped the Python interoperability check: python3 cannot be run")
            return
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            print("SafeTensorsTests: skipped the Python interoperability check: python3 with numpy and safetensors is not available")
            return
        }
        let (tensors, metadata) = try SafeTensors.read(from: url)
        #expect(tensors["w"]! == Tensor(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25] as [Float]))
        #expect(tensors["b"]! == Tensor([1.5, -2.0]))
        #expect(metadata == ["source": "numpy"])
    }

    /// Python's `safetensors.numpy` reads a file written here, when that package is installed.
    @Test func pythonSafetensorsReadsOurFile() throws {
        let url = temporaryURL()
        try SafeTensors.write(["w": Tensor(shape: [2, 2], scalars: [1, -2, 3.5, 0] as [Float]), "b": Tensor([0.25, 8.0])],
                              metadata: ["who": "swift"], to: url)
        let script = """
        import json, struct, sys
        import numpy as np
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file("\(url.path)")
        assert t["w"].dtype == np.float32 and t["w"].tolist() == [[1, -2], [3.5, 0]], t["w"]
        assert t["b"].dtype == np.float64 and t["b"].tolist() == [0.25, 8.0], t["b"]
        with safe_open("\(url.path)", framework="numpy") as f:
            assert f.metadata() == {"who": "swift"}, f.metadata()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import safetensors.numpy"]
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            print("SafeTensorsTests: skipped the Python read check: python3 cannot be run")
            return
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            print("SafeTensorsTests: skipped the Python read check: python3 with numpy and safetensors is not available")
            return
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", script]
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "Python's safetensors rejected or misread the file")
    }
}
