import Foundation
import AutoGrad

/// Maps text to token ids in `0..<vocabularySize` and back.
///
/// Conformers: ``CharacterTokenizer`` (one token per Unicode scalar of its vocabulary) and
/// ``ByteLevelBPETokenizer`` (UTF-8 bytes merged by learned byte-pair merges). Both save to and load from
/// a JSON file (``TokenizerFile``), so a model's checkpoint can carry the tokenizer it was trained with.
public protocol Tokenizer: Sendable {
    /// The number of distinct token ids; every id is in `0..<vocabularySize`.
    var vocabularySize: Int { get }

    /// The token ids of `text`.
    ///
    /// - Throws: ``TokenizerError`` when `text` holds something the tokenizer cannot represent.
    func encode(_ text: String) throws(TokenizerError) -> [Int]

    /// The text of `tokens`. `decode(encode(s)) == s` for every `s` that encodes.
    ///
    /// - Precondition: every id is in `0..<vocabularySize`.
    func decode(_ tokens: [Int]) -> String

    /// Writes the tokenizer to `url` in the format of ``TokenizerFile``.
    ///
    /// - Throws: ``DataError/Problem/unreadable(_:)`` when the file cannot be written.
    func save(to url: URL) throws(DataError)
}

extension Tokenizer {
    /// The token ids of `text` as one-dimensional `TensorIndices` `[count]`.
    public func encodeIndices(_ text: String) throws(TokenizerError) -> TensorIndices {
        TensorIndices(try encode(text))
    }

    /// Traps unless every id of `tokens` is in the vocabulary; `op` names the caller.
    func checkIDs(_ tokens: [Int], op: String) {
        for t in tokens {
            precondition(t >= 0 && t < vocabularySize, "\(op): token id \(t) out of range 0..<\(vocabularySize)")
        }
    }
}

/// Text that a tokenizer cannot encode.
public enum TokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A Unicode scalar that is not in a ``CharacterTokenizer``'s vocabulary, at scalar `offset` of the text.
    case unknownCharacter(Unicode.Scalar, offset: Int)

    /// The problem, in words.
    public var description: String {
        switch self {
        case .unknownCharacter(let scalar, let offset):
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
            return "character \(scalar.escaped(asASCII: false)) (\(code)) at position \(offset) is not in the "
                + "tokenizer's vocabulary (the characters of the text it was built from)"
        }
    }
}
