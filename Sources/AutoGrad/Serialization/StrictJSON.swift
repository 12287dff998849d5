/// A JSON value as the strict parser ``StrictJSON/parse(_:)`` reads it.
///
/// Objects keep their members in file order; numbers keep their literal text, so that an integer
/// field can refuse `1.0`, `1e3` or `true` instead of converting them.
enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// A number's literal text as it appears in the file (`-12`, `0.5`, `1e3`).
    case number(String)
    case bool(Bool)
    case null

    /// The value as an `Int` when it is an integer literal (no fraction, no exponent) that fits;
    /// nil for anything else, booleans included.
    var integer: Int? {
        guard case .number(let literal) = self, !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int(literal)
    }
}

/// A strict JSON parser (RFC 8259) for headers read from files.
///
/// Foundation's `JSONSerialization` keeps the last of two equal keys without a word and bridges `true`
/// to the number 1; a checkpoint reader cannot afford either. This parser rejects duplicate keys in
/// any object, keeps booleans apart from numbers, limits nesting depth (so a hostile header cannot
/// exhaust the stack), and says where the input went wrong. Keys are compared as Swift strings, so
/// two keys that differ only in Unicode normalisation count as duplicates: they could not be told
/// apart in a Swift dictionary either.
enum StrictJSON {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 64

    /// Why the input is not acceptable JSON, in words.
    struct Failure: Error, Equatable {
        let reason: String
    }

    /// The value that `bytes` (UTF-8) hold: one value, with optional whitespace around it.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected data after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        func failure(_ reason: String) -> Failure { Failure(reason: "\(reason) at byte \(position)") }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ literal: String) throws(Failure) {
            let utf8 = Array(literal.utf8)
            guard bytes.count - position >= utf8.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
                throw failure("invalid literal (expected \(literal))")
            }
            position += utf8.count
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard position < bytes.count else { throw failure("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw failure("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= StrictJSON.maximumDepth else { throw failure("nested deeper than \(StrictJSON.maximumDepth) levels") }
            position += 1   // {
            var members: [(key: String, value: JSONValue)] = []
            var keys = Set<String>()
            skipWhitespace()
            if position < bytes.count && bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                let keyStart = position
                let key = try string()
                guard keys.insert(key).inserted else {
                    position = keyStart
                    throw failure("duplicate key \"\(key)\"")
                }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                position += 1
                skipWhitespace()
                members.append((key, try value(depth: depth)))
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end of input in an object") }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                guard bytes[position] == UInt8(ascii: ",") else { throw failure("expected ',' or '}'") }
                position += 1
            }
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= StrictJSON.maximumDepth else { throw failure("nested deeper than \(StrictJSON.maximumDepth) levels") }
            position += 1   // [
            var elements: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count && bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end of input in an array") }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
                guard bytes[position] == UInt8(ascii: ",") else { throw failure("expected ',' or ']'") }
                position += 1
            }
        }

        /// A number literal: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        mutating func number() throws(Failure) -> String {
            let start = position
            func digits(_ p: inout Int, _ bytes: [UInt8]) -> Int {
                let s = p
                while p < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[p]) { p += 1 }
                return p - s
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            let integerDigits = digits(&position, bytes)
            guard integerDigits > 0 else { throw failure("malformed number") }
            guard bytes[integerStart] != UInt8(ascii: "0") || integerDigits == 1 else { throw failure("number with a leading zero") }
            if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits(&position, bytes) > 0 else { throw failure("malformed number") }
            }
            if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
                position += 1
                if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
                guard digits(&position, bytes) > 0 else { throw failure("malformed number") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// A string literal, unescaped; the input must be valid UTF-8 (checked by the caller).
        mutating func string() throws(Failure) -> String {
            position += 1   // opening quote
            var scalars = String.UnicodeScalarView()
            var runStart = position
            func flushRun(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
            while true {
                guard position < bytes.count else { throw failure("unterminated string") }
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    flushRun(position)
                    position += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flushRun(position)
                    position += 1
                    scalars.append(try escape())
                    runStart = position
                case 0..<0x20:
                    throw failure("unescaped control character in a string")
                default:
                    position += 1
                }
            }
        }

        /// The character after a backslash (and its hex digits for `\u`).
        mutating func escape() throws(Failure) -> Unicode.Scalar {
            guard position < bytes.count else { throw failure("unterminated string") }
            let c = bytes[position]
            position += 1
            switch c {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let high = try hex4()
                if (0xD800..<0xDC00).contains(high) {
                    guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw failure("unpaired surrogate in \\u escape")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in \\u escape") }
                    return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(high) else { throw failure("unpaired surrogate in \\u escape") }
                return scalar
            default:
                throw failure("invalid escape")
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard bytes.count - position >= 4 else { throw failure("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw failure("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }
    }
}
