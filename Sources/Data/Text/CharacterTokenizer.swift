import Foundation

/// One token per character: the vocabulary is the sorted distinct characters of a text (nanoGPT's
/// `shakespeare_char`).
///
/// A "character" here is a Unicode scalar, as in Python's `str` — not a Swift `Character`, which can join
/// several scalars into one grapheme — so the vocabulary and the token ids match Python's
/// `sorted(set(text))` exactly: token `i` is the `i`-th smallest scalar value in the text.
///
/// ```swift
/// let tokenizer = CharacterTokenizer(training: "hello")   // vocabulary: e h l o
/// print(try tokenizer.encode("hole"))                     // [1, 3, 2, 0]
/// print(tokenizer.decode([1, 0, 2, 2, 3]))                // "hello"
/// ```
///
/// Unknown characters are refused: ``encode(_:)`` throws ``TokenizerError/unknownCharacter(_:offset:)``
/// naming the first character outside the vocabulary and its position. A character model has no
/// representation for a character it never saw, and mapping it silently to a placeholder would change the
/// prompt a user typed; build the vocabulary from the whole corpus (as nanoGPT does) so that no part of it
/// is unknown.
public struct CharacterTokenizer: Tokenizer, Equatable {
    /// The vocabulary, by token id: strictly increasing scalar values.
    public let characters: [Unicode.Scalar]
    private let ids: [Unicode.Scalar: Int]

    static let typeName = "characters"

    /// A tokenizer whose vocabulary is the distinct Unicode scalars of `text`, sorted by value.
    public init(training text: String) {
        self.init(uncheckedCharacters: Set(text.unicodeScalars).sorted { $0.value < $1.value })
    }

    /// A tokenizer with the vocabulary `characters`, token `i` being `characters[i]`.
    ///
    /// - Precondition: `characters` is strictly increasing by scalar value (sorted, no repeats).
    public init(characters: [Unicode.Scalar]) {
        for i in characters.indices.dropFirst() {
            precondition(characters[i - 1].value < characters[i].value,
                         "CharacterTokenizer: characters must be strictly increasing, but \(characters[i - 1].value) "
                         + "is followed by \(characters[i].value) at \(i)")
        }
        self.init(uncheckedCharacters: characters)
    }

    private init(uncheckedCharacters characters: [Unicode.Scalar]) {
        self.characters = characters
        ids = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, $0) })
    }

    /// The number of characters in the vocabulary.
    public var vocabularySize: Int { characters.count }

    /// One token per Unicode scalar of `text`.
    ///
    /// - Throws: ``TokenizerError/unknownCharacter(_:offset:)`` for the first scalar outside the vocabulary.
    public func encode(_ text: String) throws(TokenizerError) -> [Int] {
        var tokens: [Int] = []
        tokens.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let id = ids[scalar] else { throw .unknownCharacter(scalar, offset: tokens.count) }
            tokens.append(id)
        }
        return tokens
    }

    /// The characters of `tokens`, concatenated.
    ///
    /// - Precondition: every id is in `0..<vocabularySize`.
    public func decode(_ tokens: [Int]) -> String {
        checkIDs(tokens, op: "CharacterTokenizer.decode")
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: tokens.map { characters[$0] })
        return String(scalars)
    }

    /// Writes the vocabulary to `url` (``TokenizerFile``, type `"characters"`).
    public func save(to url: URL) throws(DataError) {
        try TokenizerFile.write(type: Self.typeName, fields: ["characters": characters.map { String($0) }], to: url.path)
    }

    /// The character tokenizer saved at `path`.
    ///
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/invalidTokenizerFile(_:)`` (including a file of another tokenizer type).
    public init(contentsOf path: String) throws(DataError) {
        try self.init(file: TokenizerFile.read(path))
    }

    init(file: TokenizerFile.Object) throws(DataError) {
        guard file.type == Self.typeName else {
            throw file.invalid("\"type\" is \"\(file.type)\", expected \"\(Self.typeName)\"")
        }
        try file.requireKeys(["characters"])
        var characters: [Unicode.Scalar] = []
        for (i, item) in try file.array("characters").enumerated() {
            guard let string = item as? String, string.unicodeScalars.count == 1,
                  let scalar = string.unicodeScalars.first else {
                throw file.invalid("\"characters\"[\(i)] must be a string of exactly one Unicode scalar")
            }
            if let previous = characters.last, previous.value >= scalar.value {
                throw file.invalid("\"characters\" must be strictly increasing by scalar value; [\(i)] is not")
            }
            characters.append(scalar)
        }
        self.init(uncheckedCharacters: characters)
    }

    public static func == (a: CharacterTokenizer, b: CharacterTokenizer) -> Bool { a.characters == b.characters }
}
