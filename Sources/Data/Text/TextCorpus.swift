import Foundation

/// A body of UTF-8 text to train a language model on, read and validated from disk.
///
/// ```swift
/// let corpus = try TextCorpus(contentsOf: "input.txt")          // any UTF-8 file
/// let fortunes = try TextCorpus.fortunes()                       // Debian's `fortunes` package
/// let tokenizer = CharacterTokenizer(training: fortunes.text)
/// let (train, validation) = trainValidationSplit(try tokenizer.encode(fortunes.text))
/// ```
///
/// Reading fails with a ``DataError`` that names the file: ``DataError/Problem/fileNotFound``,
/// ``DataError/Problem/empty``, or ``DataError/Problem/invalidUTF8(offset:)`` with the offset of the first
/// byte that is not UTF-8. (Text too short for a context window is found later, when
/// ``LanguageModelWindows`` are made from its tokens.)
public struct TextCorpus: Sendable {
    /// Where the text came from: a file, or a directory for a corpus of several files.
    public let path: String
    /// The whole text.
    public let text: String

    /// A corpus of `text`, labelled `path` in messages.
    public init(text: String, path: String) {
        self.path = path
        self.text = text
    }

    /// The text of the UTF-8 file at `path`.
    ///
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/unreadable(_:)``, ``DataError/Problem/empty``,
    ///   ``DataError/Problem/invalidUTF8(offset:)``.
    public init(contentsOf path: String) throws(DataError) {
        try self.init(bytes: FileIO.read(path), path: path)
    }

    /// The text of `bytes`, which must be non-empty UTF-8; `path` names them in errors.
    ///
    /// - Throws: ``DataError/Problem/empty``, ``DataError/Problem/invalidUTF8(offset:)``.
    public init(bytes: [UInt8], path: String) throws(DataError) {
        guard !bytes.isEmpty else { throw DataError(path: path, .empty) }
        self.init(text: try decodeUTF8(bytes, path: path), path: path)
    }

    /// The directory where Debian's `fortunes` package installs its text.
    public static let fortunesDirectory = "/usr/share/games/fortunes"

    /// The command that installs the `fortunes` corpus.
    public static let fortunesInstallHint =
        "Install it with `sudo apt-get install fortunes` (or `scripts/setup.sh --with-data`)."

    /// The fortune files of Debian's `fortunes` package (about 2.5 MB of English text, 113 distinct
    /// characters), concatenated.
    ///
    /// The rule, so that every reader gets the same text: the regular files directly in `directory`,
    /// in byte order of their names, joined with nothing between them — leaving out the `strfile`
    /// indexes (`*.dat`), the `*.u8` names (symbolic links to the same text), any other symbolic link
    /// and any subdirectory (such as `off/`, the offensive fortunes of another package). In Python:
    ///
    /// ```python
    /// names = sorted(n for n in os.listdir(d) if not n.endswith(('.dat', '.u8'))
    ///                and os.path.isfile(os.path.join(d, n)) and not os.path.islink(os.path.join(d, n)))
    /// text = ''.join(open(os.path.join(d, n), encoding='utf-8').read() for n in names)
    /// ```
    ///
    /// - Throws: ``DataError/Problem/datasetMissing(missingFiles:installHint:)`` when `directory` does not
    ///   exist or holds no fortune file; a file's own ``DataError`` when one is unreadable, empty or not UTF-8.
    public static func fortunes(directory: String = fortunesDirectory) throws(DataError) -> TextCorpus {
        let names = fortuneFileNames(in: directory)
        guard !names.isEmpty else {
            throw DataError(path: directory, .datasetMissing(missingFiles: ["the fortune text files"],
                                                             installHint: fortunesInstallHint))
        }
        var text = ""
        for name in names {
            text += try TextCorpus(contentsOf: directory + "/" + name).text
        }
        return TextCorpus(text: text, path: directory)
    }

    /// The names of the fortune files in `directory`, sorted; empty when it is missing.
    static func fortuneFileNames(in directory: String) -> [String] {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { name in
            guard !name.hasSuffix(".dat"), !name.hasSuffix(".u8"),
                  let attributes = try? files.attributesOfItem(atPath: directory + "/" + name) else { return false }
            // attributesOfItem does not follow links, so a link reports .typeSymbolicLink.
            return attributes[.type] as? FileAttributeType == .typeRegular
        }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}

/// `bytes` as a string, or the offset of the first byte that is not UTF-8.
func decodeUTF8(_ bytes: [UInt8], path: String) throws(DataError) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    // Rare path: walk the scalars to say where the text goes wrong.
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let scalar): offset += scalar.count
        case .error: throw DataError(path: path, .invalidUTF8(offset: offset))
        case .emptyInput: throw DataError(path: path, .invalidUTF8(offset: bytes.count))
        }
    }
}

/// Splits a token sequence at a fixed point: the first `trainFraction` of it for training, the rest for
/// validation (nanoGPT's split; `trainFraction` 0.9 gives the 90/10 split).
///
/// The split is by position, not at random, so that context windows of one part never overlap the other.
/// The training part holds `Int(Double(tokens.count) * trainFraction)` tokens — in Python,
/// `int(len(data) * 0.9)` — so both frameworks split a corpus at the same token.
///
/// - Precondition: `trainFraction` is in [0, 1].
public func trainValidationSplit(_ tokens: [Int], trainFraction: Double = 0.9) -> (train: [Int], validation: [Int]) {
    precondition(trainFraction >= 0 && trainFraction <= 1,
                 "trainValidationSplit: trainFraction must lie in [0, 1], got \(trainFraction)")
    let n = Int(Double(tokens.count) * trainFraction)
    return (Array(tokens[..<n]), Array(tokens[n...]))
}
