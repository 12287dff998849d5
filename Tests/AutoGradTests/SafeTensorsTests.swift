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
        for dtype in ["F8_E4M3", "U64", "U32", "C64", "f32"] {
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

/// The format's rules, followed strictly: tensors tile the data buffer, keys are unique, shapes are integers.
@Suite struct SafeTensorsStrictnessTests {
    let one: [UInt8] = [0, 0, 128, 63]   // 1.0 as little-endian float32
    func entry(_ name: String, _ begin: Int, _ end: Int) -> String {
        #""\#(name)":{"dtype":"F32","shape":[\#((end - begin) / 4)],"data_offsets":[\#(begin),\#(end)]}"#
    }

    @Test func aGapBetweenTensorsIsRefused() {
        let file = rawFile(header: "{\(entry("a", 0, 4)),\(entry("b", 8, 12))}", data: one + one + one)
        let error = decodeError(file)
        #expect(error == .gapInData(path: "x.safetensors", tensor: "b", begin: 8, expectedBegin: 4))
        #expect(error?.description.contains("4 bytes belong to no tensor") == true)
    }

    @Test func dataMustStartAtZero() {
        let file = rawFile(header: "{\(entry("a", 4, 8))}", data: one + one)
        #expect(decodeError(file) == .gapInData(path: "x.safetensors", tensor: "a", begin: 4, expectedBegin: 0))
    }

    @Test func bytesAfterTheLastTensorAreRefused() throws {
        let file = rawFile(header: "{\(entry("a", 0, 4))}", data: one + [0])
        #expect(decodeError(file) == .unusedData(path: "x.safetensors", used: 4, available: 5))
        #expect(decodeError(rawFile(header: "{}", data: [1])) == .unusedData(path: "x.safetensors", used: 0, available: 1))
        #expect(try SafeTensors.decode(rawFile(header: "{}")).tensors.isEmpty)
    }

    @Test func aHeaderLengthOffByOneIsAnErrorNotShiftedTensors() {
        let good = SafeTensors.encode(["a": Tensor([Float(1), 2, 3]), "b": Tensor([Float(4)])])
        #expect(good[8 + Int(good[0]) - 1] == UInt8(ascii: " "))   // the header ends in padding
        var short = good
        short[0] -= 1   // its last space becomes data: every tensor would shift by a byte
        #expect(decodeError(short) == .unusedData(path: "x.safetensors", used: 16, available: 17))
        var long = good
        long[0] += 1    // the first data byte becomes header
        guard case .invalidHeader? = decodeError(long) else { Issue.record("a header one byte too long was accepted"); return }
    }

    @Test func tensorsMayBeStoredInAnyOrderAndEmptyOnesAnywhereInTheTiling() throws {
        let file = rawFile(header: "{\(entry("z", 0, 4)),\(entry("a", 4, 8)),\(entry("e", 4, 4))}", data: one + one)
        let tensors = try SafeTensors.decode(file).tensors
        #expect(tensors["z"]! == Tensor([Float(1)]) && tensors["a"]! == Tensor([Float(1)]) && tensors["e"]!.shape == [0])
        let emptyPastTheEnd = rawFile(header: "{\(entry("a", 0, 4)),\(entry("e", 12, 12))}", data: one)
        #expect(decodeError(emptyPastTheEnd) == .truncatedData(path: "x.safetensors", tensor: "e", end: 12, available: 4))
    }

    @Test(arguments: [
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        #"{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}"#,
        #"{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        #"{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    ])
    func duplicateKeysAreRefused(header: String) {
        guard case .invalidHeader(_, let reason)? = decodeError(rawFile(header: header, data: one)) else {
            Issue.record("duplicate keys accepted: \(header)"); return
        }
        #expect(reason.contains("duplicate key"))
    }

    @Test(arguments: ["[true]", "[false]", "[1.0]", "[1e0]", "[\"1\"]", "[null]", "[[1]]", "1", "[-0.0]"])
    func shapesOfAnythingButNonNegativeIntegersAreRefused(shape: String) {
        let file = rawFile(header: #"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#, data: one)
        guard case .invalidHeader(_, let reason)? = decodeError(file) else { Issue.record("shape \(shape) accepted"); return }
        #expect(reason.contains("shape"))
    }

    @Test func offsetsMustBeIntegersToo() {
        for offsets in ["[0,true]", "[false,4]", "[0,4.0]", "[0,4,8]"] {
            let file = rawFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#, data: one)
            guard case .invalidHeader? = decodeError(file) else { Issue.record("offsets \(offsets) accepted"); continue }
        }
    }

    @Test func hugeShapesAndOffsetsAreErrorsNotTraps() {
        for header in [#"{"a":{"dtype":"F64","shape":[9223372036854775807,2],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775803,9223372036854775807]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#] {
            #expect(decodeError(rawFile(header: header, data: one)) != nil, "accepted \(header)")
        }
    }
}

@Suite struct StrictJSONTests {
    func parse(_ text: String) throws(StrictJSON.Failure) -> JSONValue { try StrictJSON.parse(Array(text.utf8)) }

    @Test func keepsBooleansApartFromNumbersAndIntegersApartFromFractions() throws {
        guard case .array(let values) = try parse(" [true, 1, 1.0, 1e2, -3, 0, false, null] ") else { Issue.record("not an array"); return }
        #expect(values.map(\.integer) == [nil, 1, nil, nil, -3, 0, nil, nil])
        guard case .bool(true) = values[0], case .number("1.0") = values[2], case .null = values[7] else {
            Issue.record("wrong values \(values)"); return
        }
    }

    @Test func unescapesStrings() throws {
        guard case .object(let members) = try parse(#"{"a\"b\\c\/\n\u00e9\ud83d\ude00": "x"}"#) else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["a\"b\\c/\n\u{e9}\u{1F600}"])
    }

    @Test(arguments: ["", "{", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "{\"a\" 1}", "{1:2}", "[tru]",
                      "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "[1] [2]", "[1]x", "\"abc"])
    func rejectsMalformedInput(text: String) {
        #expect(throws: StrictJSON.Failure.self) { try parse(text) }
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: StrictJSON.Failure.self) { try parse(deep) }
        let ok = String(repeating: "[", count: StrictJSON.maximumDepth) + String(repeating: "]", count: StrictJSON.maximumDepth)
        #expect(throws: Never.self) { try parse(ok) }
    }
}

/// Hostile variants of a small valid file: every truncation, every single-bit flip and header lengths off
/// by 1…16 either way. None may crash, hang (over a second) or read as a file of another structure.
@Suite struct SafeTensorsHostileSweepTests {
    @Test func truncationsBitFlipsAndWrongHeaderLengths() throws {
        let whole = [UInt8](SafeTensors.encode(["a": Tensor.ones([3]), "b": Tensor.zeros([2, 2], dtype: .float64), "e": Tensor.zeros([0])],
                                               metadata: ["m": "1"]))
        let original = try SafeTensors.decode(Data(whole))
        /// dtype and shape of each tensor, in offset order: what a renamed tensor or a changed value keeps.
        func structure(_ t: [String: Tensor]) -> [String] { t.values.map { "\($0.dtype) \($0.shape)" }.sorted() }
        var inputs: [[UInt8]] = (0..<whole.count).map { Array(whole.prefix($0)) }
        for i in whole.indices { for bit in 0..<8 { var f = whole; f[i] ^= 1 << bit; inputs.append(f) } }
        for delta in 1...16 {
            for sign in [-1, 1] { var f = whole; f[0] = UInt8(Int(f[0]) + sign * delta); inputs.append(f) }
        }
        var rejected = 0, same = 0, changed = 0, silentWrong = 0, hangs = 0
        for input in inputs {
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                let result = try SafeTensors.decode(Data(input), path: "sweep")
                if SafeTensors.encode(result.tensors, metadata: result.metadata) == SafeTensors.encode(original.tensors, metadata: original.metadata) {
                    same += 1
                } else if structure(result.tensors) == structure(original.tensors) {
                    changed += 1   // values, names or metadata: bytes the format does not protect
                } else {
                    silentWrong += 1
                }
            } catch is SafeTensorsError {
                rejected += 1
            } catch {
                Issue.record("untyped error \(error)")
            }
            if DispatchTime.now().uptimeNanoseconds - start > 1_000_000_000 { hangs += 1 }
        }
        print("sweep: safetensors tried \(inputs.count)  rejected \(rejected)  same \(same)  values/names changed \(changed)  silent wrong \(silentWrong)  hangs \(hangs)")
        #expect(silentWrong == 0 && hangs == 0 && rejected + same + changed == inputs.count)
    }
}
