import Foundation

/// Why a safetensors file could not be read or written. Every case names the file.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// There is no file at the path.
    case fileNotFound(path: String)
    /// The file could not be read or written (permissions, disk full, …).
    case ioFailed(path: String, reason: String)
    /// The file ends inside the 8-byte length prefix or inside the JSON header.
    case truncatedHeader(path: String, needed: Int, available: Int)
    /// The length prefix is larger than any real header (over 100,000,000 bytes, the safetensors limit).
    case headerTooLarge(path: String, length: UInt64)
    /// The header is not valid UTF-8 JSON of the expected form; `reason` says what is wrong.
    case invalidHeader(path: String, reason: String)
    /// A tensor has a dtype this library does not read (see ``SafeTensors/supportedDTypes``).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor's element is not a value of its dtype (a `BOOL` byte other than 0 or 1).
    case invalidElement(path: String, tensor: String, index: Int, reason: String)
    /// An integer tensor was asked for as floating-point numbers, and one of its elements has no exact
    /// `Double` (its magnitude exceeds 2⁵³); read it with ``SafeTensors/readStored(from:)`` instead.
    case integerNotRepresentable(path: String, tensor: String, value: Int)
    /// A tensor's `data_offsets` are reversed, or their span differs from shape × element size.
    case invalidOffsets(path: String, tensor: String, begin: Int, end: Int, expectedBytes: Int)
    /// A tensor's data runs past the end of the file.
    case truncatedData(path: String, tensor: String, end: Int, available: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingData(path: String, tensor: String, other: String)
    /// A tensor's data does not start where the previous tensor's ends (or, for the first, at 0): the
    /// bytes in between belong to no tensor. The format requires the data to be contiguous.
    case gapInData(path: String, tensor: String, begin: Int, expectedBegin: Int)
    /// The data buffer holds bytes after the last tensor's data; the format requires the tensors to cover
    /// it exactly. A header length off by one is reported this way.
    case unusedData(path: String, used: Int, available: Int)

    /// A one-line message starting with `safetensors:` and naming the file and what was wrong.
    public var description: String {
        switch self {
        case .fileNotFound(let path): return "safetensors: no file at \(path)"
        case .ioFailed(let path, let reason): return "safetensors: \(path): \(reason)"
        case .truncatedHeader(let path, let needed, let available):
            return "safetensors: \(path): truncated header: needs \(needed) bytes, the file has \(available)"
        case .headerTooLarge(let path, let length):
            return "safetensors: \(path): header length \(length) is absurd (limit 100000000); not a safetensors file?"
        case .invalidHeader(let path, let reason): return "safetensors: \(path): invalid header: \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype):
            return "safetensors: \(path): tensor \"\(tensor)\" has dtype \(dtype); supported are "
                + SafeTensors.supportedDTypes.joined(separator: ", ")
        case .invalidElement(let path, let tensor, let index, let reason):
            return "safetensors: \(path): tensor \"\(tensor)\" element \(index): \(reason)"
        case .integerNotRepresentable(let path, let tensor, let value):
            return "safetensors: \(path): integer tensor \"\(tensor)\" holds \(value), which has no exact floating-point value; "
                + "read it as an integer tensor (SafeTensors.readStored)"
        case .invalidOffsets(let path, let tensor, let begin, let end, let expected):
            return "safetensors: \(path): tensor \"\(tensor)\" has data_offsets [\(begin), \(end)] but its shape and dtype need \(expected) bytes"
        case .truncatedData(let path, let tensor, let end, let available):
            return "safetensors: \(path): tensor \"\(tensor)\" ends at data byte \(end) but the file holds \(available) data bytes (truncated?)"
        case .overlappingData(let path, let tensor, let other):
            return "safetensors: \(path): tensors \"\(other)\" and \"\(tensor)\" overlap"
        case .gapInData(let path, let tensor, let begin, let expectedBegin):
            return "safetensors: \(path): tensor \"\(tensor)\" starts at data byte \(begin), but the data before it ends at \(expectedBegin): "
                + "\(begin - expectedBegin) bytes belong to no tensor (tensor data must be contiguous)"
        case .unusedData(let path, let used, let available):
            return "safetensors: \(path): the tensors use \(used) data bytes but the file holds \(available): "
                + "\(available - used) bytes belong to no tensor (wrong header length?)"
        }
    }
}

/// A tensor as a safetensors file holds it: floating-point numbers or integers.
///
/// Checkpoints mix the two — weights are floating-point, a batch-norm layer's `num_batches_tracked` is a
/// 64-bit integer in PyTorch — so the reader keeps them apart instead of rounding one into the other.
public enum StoredTensor: Equatable {
    /// `F32` or `F64` as they are; `F16` and `BF16` widened (exactly) to `float32`.
    case float(Tensor)
    /// `I64`, `I32`, `I16`, `I8`, `U8` and `BOOL` (0 or 1) as 64-bit integers; written back as `I64`.
    case integer(IntTensor)
    /// Signed bytes of a `shape`, written as `I8`: quantised weights, a quarter the size of `F32`. The reader gives
    /// `I8` back as ``integer(_:)``.
    case int8(shape: [Int], values: [Int8])

    /// The shape of the tensor.
    public var shape: [Int] {
        switch self {
        case .float(let t): return t.shape
        case .integer(let t): return t.shape
        case .int8(let shape, _): return shape
        }
    }

    /// The values as floating-point numbers of `dtype` (integers converted, rounding to nearest past 2²⁴ or 2⁵³).
    public func floatingPoint(_ dtype: DType) -> Tensor {
        switch self {
        case .float(let t): return t.to(dtype)
        case .integer(let t): return Tensor(t, dtype: dtype)
        case .int8(let shape, let values): return Tensor(shape: shape, scalars: values.map(Double.init), dtype: dtype)
        }
    }

    /// The values as integers, or nil when a floating-point element is not a whole number (see ``IntTensor/init(exactly:)``).
    public var integers: IntTensor? {
        switch self {
        case .float(let t): return IntTensor(exactly: t)
        case .integer(let t): return t
        case .int8(let shape, let values): return IntTensor(shape: shape, values: values.map(Int.init))
        }
    }
}

/// Reads and writes the safetensors format (Hugging Face's checkpoint format, readable by
/// `safetensors.torch.load_file` and `safetensors.numpy.load_file`).
///
/// Layout: an 8-byte little-endian unsigned header length `N`; `N` bytes of UTF-8 JSON
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …, "__metadata__": {…}}`;
/// then the raw little-endian tensor data, offsets counted from the end of the header.
/// The writer sorts names, lays the data out in that order, and pads the header with spaces so
/// that the data starts at a multiple of 8 bytes.
///
/// ```swift
/// try SafeTensors.write(["w": Tensor.ones([2, 2])], metadata: ["epoch": "3"], to: url)
/// let (tensors, metadata) = try SafeTensors.read(from: url)
/// ```
///
/// Two views of a file: ``read(from:)`` gives every tensor as a ``Tensor`` (integer tensors converted
/// exactly to `float64`, or an error), ``readStored(from:)`` keeps integers as ``IntTensor``
/// (``StoredTensor``). Dtypes read: `F64`, `F32`, `F16` and `BF16` (widened to `float32`), `I64`, `I32`, `I16`,
/// `I8`, `U8`, `BOOL`; written: `F64`, `F32`, `I64`, `I8`.
///
/// The reader follows the format strictly, as the reference implementation does: header keys are
/// unique, shapes and offsets are non-negative integers (not `true`, not `1.0`), and the tensors'
/// `data_offsets`, taken in order, cover the data buffer exactly — the first starts at 0, each starts
/// where the previous ends, the last ends at the end of the file — so a header length that is off by
/// one is an error, not every tensor shifted by a byte. A corrupt file never crashes the reader: every
/// problem throws a ``SafeTensorsError``.
public enum SafeTensors {
    /// The largest header accepted, as in the reference implementation.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// The dtype names the reader accepts.
    public static let supportedDTypes = ElementType.allCases.map(\.rawValue)

    /// The bytes of a safetensors file holding `tensors` and `metadata`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        encode(stored: tensors.mapValues(StoredTensor.float), metadata: metadata)
    }

    /// The bytes of a safetensors file holding floating-point and integer `tensors` (integers as `I64`, bytes as `I8`).
    public static func encode(stored tensors: [String: StoredTensor], metadata: [String: String] = [:]) -> Data {
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        let names = tensors.keys.sorted()
        var offset = 0
        for name in names {
            precondition(name != "__metadata__", "SafeTensors.write: \"__metadata__\" is reserved and cannot name a tensor")
            let (type, count): (ElementType, Int)
            switch tensors[name]! {
            case .float(let t): (type, count) = (t.dtype == .float32 ? .F32 : .F64, t.count)
            case .integer(let t): (type, count) = (.I64, t.count)
            case .int8(let shape, let values):
                precondition(shapeCount(shape) == values.count,
                             "SafeTensors.write: \"\(name)\" has shape \(shape) but \(values.count) bytes")
                (type, count) = (.I8, values.count)
            }
            let bytes = count * type.byteSize
            let shape = tensors[name]!.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(type.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var data = Data(capacity: 8 + header.count + offset)
        func append<I: FixedWidthInteger>(_ v: I) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        append(UInt64(header.count))
        data.append(contentsOf: header)
        for name in names {
            switch tensors[name]! {
            case .float(let t) where t.dtype == .float32: t.withUnsafeBufferPointer(as: Float.self) { for v in $0 { append(v.bitPattern) } }
            case .float(let t): t.withUnsafeBufferPointer(as: Double.self) { for v in $0 { append(v.bitPattern) } }
            case .integer(let t): for v in t.values { append(Int64(v)) }
            case .int8(_, let values): values.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Writes `tensors` and string `metadata` to `url` as a safetensors file (atomically).
    ///
    /// - Throws: ``SafeTensorsError/ioFailed(path:reason:)`` when the file cannot be written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(stored: tensors.mapValues(StoredTensor.float), metadata: metadata, to: url)
    }

    /// Writes floating-point and integer `tensors` and string `metadata` to `url` (atomically).
    ///
    /// - Throws: ``SafeTensorsError/ioFailed(path:reason:)`` when the file cannot be written.
    public static func write(stored tensors: [String: StoredTensor], metadata: [String: String] = [:], to url: URL) throws {
        do {
            try encode(stored: tensors, metadata: metadata).write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError.ioFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads the tensors and metadata of the safetensors file at `url`, integer tensors converted to `float64`.
    ///
    /// - Throws: ``SafeTensorsError`` naming the file and the problem;
    ///   ``SafeTensorsError/integerNotRepresentable(path:tensor:value:)`` for an integer beyond ±2⁵³.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try decode(contents(of: url), path: url.path)
    }

    /// Reads the tensors and metadata of the safetensors file at `url`, integer tensors as ``IntTensor``.
    ///
    /// - Throws: ``SafeTensorsError`` naming the file and the problem.
    public static func readStored(from url: URL) throws -> (tensors: [String: StoredTensor], metadata: [String: String]) {
        try decodeStored(contents(of: url), path: url.path)
    }

    private static func contents(of url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw SafeTensorsError.fileNotFound(path: url.path) }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.ioFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Decodes the bytes of a safetensors file, integer tensors converted to `float64`; `path` is used in error messages.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let (stored, metadata) = try decodeStored(data, path: path)
        var tensors: [String: Tensor] = [:]
        for (name, value) in stored {
            switch value {
            case .float(let t): tensors[name] = t
            case .integer(let t):
                if let big = t.values.first(where: { $0.magnitude > 1 << 53 }) {
                    throw SafeTensorsError.integerNotRepresentable(path: path, tensor: name, value: big)
                }
                tensors[name] = Tensor(t, dtype: .float64)
            case .int8: tensors[name] = value.floatingPoint(.float64)   // the decoder never makes one
            }
        }
        return (tensors, metadata)
    }

    /// Decodes the bytes of a safetensors file, integer tensors as ``IntTensor``; `path` is used in error messages.
    public static func decodeStored(_ data: Data, path: String = "<memory>") throws -> (tensors: [String: StoredTensor], metadata: [String: String]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw SafeTensorsError.truncatedHeader(path: path, needed: 8, available: bytes.count) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= maximumHeaderLength else { throw SafeTensorsError.headerTooLarge(path: path, length: length) }
        let headerEnd = 8 + Int(length)
        guard bytes.count >= headerEnd else { throw SafeTensorsError.truncatedHeader(path: path, needed: headerEnd, available: bytes.count) }

        let header = try parseHeader(Array(bytes[8..<headerEnd]), path: path)
        let available = bytes.count - headerEnd
        // Check every entry before building any tensor.
        for entry in header.entries {
            let expected = entry.count * entry.type.byteSize   // at most 2^40: count is bounded in parseHeader
            guard entry.begin <= entry.end, entry.end - entry.begin == expected else {
                throw SafeTensorsError.invalidOffsets(path: path, tensor: entry.name, begin: entry.begin, end: entry.end, expectedBytes: expected)
            }
            guard entry.end <= available else {
                throw SafeTensorsError.truncatedData(path: path, tensor: entry.name, end: entry.end, available: available)
            }
        }
        // In offset order the tensors must tile the data buffer: no overlap, no gap, nothing left over.
        let ordered = header.entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previous: Entry?
        var used = 0
        for entry in ordered {
            if let previous, entry.begin < used {
                throw SafeTensorsError.overlappingData(path: path, tensor: entry.name, other: previous.name)
            }
            guard entry.begin == used else {
                throw SafeTensorsError.gapInData(path: path, tensor: entry.name, begin: entry.begin, expectedBegin: used)
            }
            used = entry.end
            previous = entry
        }
        guard used == available else { throw SafeTensorsError.unusedData(path: path, used: used, available: available) }

        var tensors: [String: StoredTensor] = [:]
        try bytes.withUnsafeBytes { raw in
            for entry in header.entries {
                let element = UnsafeRawBufferPointer(rebasing: raw[(headerEnd + entry.begin)..<(headerEnd + entry.end)])
                tensors[entry.name] = try entry.type.decode(element, shape: entry.shape, count: entry.count, path: path, tensor: entry.name)
            }
        }
        return (tensors, header.metadata)
    }

    /// An element type of the format, named as in its header, that this reader accepts.
    public enum ElementType: String, CaseIterable, Sendable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

        /// The size of one element in bytes.
        public var byteSize: Int {
            switch self {
            case .F64, .I64: return 8
            case .F32, .I32: return 4
            case .F16, .BF16, .I16: return 2
            case .I8, .U8, .BOOL: return 1
            }
        }

        /// `count` little-endian elements from `raw`, widened to Float/Double or Int.
        fileprivate func decode(_ raw: UnsafeRawBufferPointer, shape: [Int], count: Int, path: String, tensor: String) throws -> StoredTensor {
            func load<I: FixedWidthInteger>(_: I.Type, _ i: Int) -> I { I(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<I>.size, as: I.self)) }
            func floats<T: TensorScalar>(_: T.Type, _ convert: (Int) -> T) -> StoredTensor {
                var t = Tensor(uninitializedShape: shape, dtype: T.dtype)
                t.withUnsafeMutableBufferPointer(as: T.self) { out in for i in 0..<count { out[i] = convert(i) } }
                return .float(t)
            }
            func integers(_ convert: (Int) -> Int) -> StoredTensor { .integer(IntTensor(shape: shape, values: (0..<count).map(convert))) }
            switch self {
            case .F64: return floats(Double.self) { Double(bitPattern: load(UInt64.self, $0)) }
            case .F32: return floats(Float.self) { Float(bitPattern: load(UInt32.self, $0)) }
            case .F16: return floats(Float.self) { Float(Float16(bitPattern: load(UInt16.self, $0))) }
            // bfloat16 is the top half of a float32.
            case .BF16: return floats(Float.self) { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) }
            case .I64: return integers { Int(load(Int64.self, $0)) }
            case .I32: return integers { Int(load(Int32.self, $0)) }
            case .I16: return integers { Int(load(Int16.self, $0)) }
            case .I8: return integers { Int(load(Int8.self, $0)) }
            case .U8: return integers { Int(load(UInt8.self, $0)) }
            case .BOOL:
                if let bad = (0..<count).first(where: { raw[$0] > 1 }) {
                    throw SafeTensorsError.invalidElement(path: path, tensor: tensor, index: bad, reason: "BOOL byte \(raw[bad]) is neither 0 nor 1")
                }
                return integers { Int(raw[$0]) }
            }
        }
    }

    private struct Entry {
        let name: String
        let type: ElementType
        let shape: [Int]
        let count: Int
        let begin: Int
        let end: Int
    }

    private static func parseHeader(_ header: [UInt8], path: String) throws -> (entries: [Entry], metadata: [String: String]) {
        func invalid(_ reason: String) -> SafeTensorsError { .invalidHeader(path: path, reason: reason) }
        guard String(validating: header, as: UTF8.self) != nil else { throw invalid("not UTF-8") }
        let root: JSONValue
        do {
            root = try StrictJSON.parse(header)
        } catch {
            throw invalid("not valid JSON: \(error.reason)")
        }
        guard case .object(let members) = root else { throw invalid("the top level is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            guard case .object(let fieldList) = value else {
                throw invalid(name == "__metadata__" ? "__metadata__ is not an object" : "entry \"\(name)\" is not an object")
            }
            if name == "__metadata__" {
                for (k, v) in fieldList {
                    guard case .string(let s) = v else { throw invalid("__metadata__ value for \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            let fields = Dictionary(uniqueKeysWithValues: fieldList.map { ($0.key, $0.value) })   // keys are unique: the parser checked
            guard case .string(let dtypeName)? = fields["dtype"] else { throw invalid("entry \"\(name)\" has no string \"dtype\"") }
            guard let type = ElementType(rawValue: dtypeName) else {
                throw SafeTensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            guard let shape = nonNegativeIntegers(fields["shape"]) else {
                throw invalid("entry \"\(name)\" has no \"shape\" of non-negative integers")
            }
            guard let count = CheckedSize.product(shape, limit: Int(Int32.max) * 64) else {
                throw invalid("entry \"\(name)\" has an absurd shape \(shape)")
            }
            guard let offsets = nonNegativeIntegers(fields["data_offsets"]), offsets.count == 2 else {
                throw invalid("entry \"\(name)\" has no \"data_offsets\" of two non-negative integers")
            }
            entries.append(Entry(name: name, type: type, shape: shape, count: count, begin: offsets[0], end: offsets[1]))
        }
        return (entries.sorted { $0.name < $1.name }, metadata)
    }

    /// A JSON array of non-negative integers as `[Int]`, or nil when it is anything else (negative
    /// numbers, fractions, exponents, booleans, strings, …).
    private static func nonNegativeIntegers(_ value: JSONValue?) -> [Int]? {
        guard case .array(let elements)? = value else { return nil }
        var result: [Int] = []
        for element in elements {
            guard let n = element.integer, n >= 0 else { return nil }
            result.append(n)
        }
        return result
    }

    /// `s` as a JSON string literal.
    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
