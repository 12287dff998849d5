import Foundation

/// The JSON file a tokenizer is saved in, and loading one of either kind.
///
/// The file is one JSON object with exactly these keys:
///
/// | key | value |
/// |---|---|
/// | `"format"` | `"swift-autograd.tokenizer"` |
/// | `"version"` | `1` |
/// | `"type"` | `"characters"` (``CharacterTokenizer``) or `"byte-level-bpe"` (``ByteLevelBPETokenizer``) |
/// | `"characters"` | (characters only) the vocabulary: an array of strings of one Unicode scalar each, strictly increasing by scalar value; token `i` is element `i` |
/// | `"merges"` | (byte-level BPE only) an array of pairs `[left, right]` of token ids; merge `i` makes token `256 + i` from `left` followed by `right`, each of which must be a byte (0–255) or an earlier merge's token |
///
/// For example, a byte-level BPE tokenizer that has learned `"t" + "h" → 256` and `256 + "e" → 257`:
///
/// ```json
/// {"format": "swift-autograd.tokenizer", "version": 1, "type": "byte-level-bpe", "merges": [[116, 104], [256, 101]]}
/// ```
///
/// Reading is strict: anything else — bad JSON, a missing or unknown key, another version, a number
/// that is not a whole number in range, a repeated character or merge — throws
/// ``DataError/Problem/invalidTokenizerFile(_:)`` naming the file and the fault.
public enum TokenizerFile {
    /// The value of the `"format"` key.
    public static let format = "swift-autograd.tokenizer"
    /// The version this code writes and reads.
    public static let version = 1

    /// The tokenizer saved at `path`, of whichever type the file says.
    ///
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/unreadable(_:)``, ``DataError/Problem/invalidTokenizerFile(_:)``.
    public static func load(from path: String) throws(DataError) -> any Tokenizer {
        let object = try read(path)
        switch object.type {
        case CharacterTokenizer.typeName: return try CharacterTokenizer(file: object)
        case ByteLevelBPETokenizer.typeName: return try ByteLevelBPETokenizer(file: object)
        default:
            throw object.invalid("unknown \"type\" \"\(object.type)\" (expected \"\(CharacterTokenizer.typeName)\" "
                                 + "or \"\(ByteLevelBPETokenizer.typeName)\")")
        }
    }

    /// The checked top level of a tokenizer file at `path`.
    static func read(_ path: String) throws(DataError) -> Object {
        let bytes = try FileIO.read(path)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Foundation.Data(bytes))
        } catch {
            throw DataError(path: path, .invalidTokenizerFile("not valid JSON"))
        }
        guard let fields = json as? [String: Any] else {
            throw DataError(path: path, .invalidTokenizerFile("the top level is not a JSON object"))
        }
        let file = Object(path: path, fields: fields, type: "")
        guard let format = fields["format"] as? String, format == Self.format else {
            throw file.invalid("\"format\" must be \"\(Self.format)\"")
        }
        guard let version = try? file.integer(fields["version"] as Any, "\"version\""), version == Self.version else {
            throw file.invalid("\"version\" must be \(Self.version), the only version this code reads")
        }
        guard let type = fields["type"] as? String else { throw file.invalid("\"type\" must be a string") }
        return Object(path: path, fields: fields, type: type)
    }

    /// Writes a tokenizer of `type` with its own `fields` to `path`.
    static func write(type: String, fields: [String: Any], to path: String) throws(DataError) {
        var object = fields
        object["format"] = format
        object["version"] = version
        object["type"] = type
        let data: Foundation.Data
        do {
            data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw DataError(path: path, .unreadable("cannot encode the tokenizer as JSON: \(error)"))
        }
        try FileIO.write([UInt8](data) + [UInt8(ascii: "\n")], to: path)
    }

    /// A tokenizer file's top-level object, with helpers that check its values.
    struct Object {
        let path: String
        let fields: [String: Any]
        let type: String

        func invalid(_ reason: String) -> DataError { DataError(path: path, .invalidTokenizerFile(reason)) }

        /// Fails unless the keys are exactly the common ones and `keys`.
        func requireKeys(_ keys: Set<String>) throws(DataError) {
            let expected = keys.union(["format", "version", "type"])
            if let extra = Set(fields.keys).subtracting(expected).sorted().first {
                throw invalid("unexpected key \"\(extra)\"")
            }
            if let missing = expected.subtracting(fields.keys).sorted().first {
                throw invalid("missing key \"\(missing)\"")
            }
        }

        /// The JSON array at `key`.
        func array(_ key: String) throws(DataError) -> [Any] {
            guard let value = fields[key] as? [Any] else { throw invalid("\"\(key)\" must be an array") }
            return value
        }

        /// `value` as a whole number; `what` names it in the error.
        func integer(_ value: Any, _ what: String) throws(DataError) -> Int {
            // JSONSerialization gives NSNumber for numbers and booleans alike (and `is Bool` holds for 0 and 1):
            // a boolean is the one whose type code is "c".
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c", let integer = value as? Int else {
                throw invalid("\(what) must be a whole number")
            }
            return integer
        }
    }
}
