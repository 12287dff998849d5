import Foundation

/// Byte-level byte-pair encoding (GPT-2's tokenizer family): tokens 0–255 are the bytes of the UTF-8 text,
/// and each learned merge joins two adjacent tokens into a new one.
///
/// Any text encodes — bytes never seen in training are their own tokens — and decoding gives the text back
/// exactly.
///
/// **Training** (``init(training:vocabularySize:)``) cuts the text's bytes into chunks and repeatedly merges
/// the most frequent adjacent pair of tokens within chunks, giving merge `i` the token `256 + i`, until the
/// vocabulary reaches the size asked for or no pair occurs at least twice. The rules, so that a merge list
/// can be checked by hand:
/// - a chunk starts at the beginning of the text and at every ASCII whitespace byte (space, tab, line feed,
///   vertical tab, form feed, carriage return); so `"to be\n"` is `"to"`, `" be"`, `"\n"`. Merges never
///   cross chunks, which keeps tokens within words (a simpler form of GPT-2's pre-tokenisation);
/// - a pair's frequency counts its non-overlapping occurrences, scanning each chunk left to right (`"aaa"`
///   holds `"aa"` once), as the merge itself will find them;
/// - ties in frequency go to the pair with the smaller left token id, then the smaller right id.
///
/// **Encoding** cuts the text into chunks the same way and applies, within each chunk, the merge of lowest
/// index among the adjacent pairs present, left to right, until none applies — which reproduces the
/// training segmentation.
///
/// ```swift
/// let bpe = ByteLevelBPETokenizer(training: corpus.text, vocabularySize: 512)
/// let ids = bpe.encode("naïve café")        // bytes and merges, each id < 512
/// print(bpe.decode(ids))                     // "naïve café"
/// try bpe.save(to: URL(fileURLWithPath: "run/tokenizer.json"))
/// ```
public struct ByteLevelBPETokenizer: Tokenizer, Equatable {
    /// A merge: the token `left` followed by the token `right`.
    public struct Pair: Hashable, Sendable {
        /// The first token of the pair.
        public var left: Int
        /// The second token of the pair.
        public var right: Int
        /// The pair `left`, `right`.
        public init(_ left: Int, _ right: Int) { self.left = left; self.right = right }
    }

    /// The learned merges in order: merge `i` makes token `256 + i`.
    public let merges: [Pair]
    private let ranks: [Pair: Int]
    /// The bytes of each token.
    private let tokenBytes: [[UInt8]]

    static let typeName = "byte-level-bpe"

    /// The tokenizer with the given merges.
    ///
    /// - Precondition: each merge's tokens are bytes (0–255) or tokens of earlier merges, and no pair repeats.
    public init(merges: [Pair]) {
        if let fault = Self.fault(in: merges) { preconditionFailure("ByteLevelBPETokenizer: \(fault)") }
        self.init(unchecked: merges)
    }

    private init(unchecked merges: [Pair]) {
        self.merges = merges
        ranks = Dictionary(uniqueKeysWithValues: merges.enumerated().map { ($1, $0) })
        var bytes = (0..<256).map { [UInt8($0)] }
        for pair in merges { bytes.append(bytes[pair.left] + bytes[pair.right]) }
        tokenBytes = bytes
    }

    /// What is wrong with `merges`, or nil when they are valid.
    private static func fault(in merges: [Pair]) -> String? {
        var seen = Set<Pair>()
        for (i, pair) in merges.enumerated() {
            let limit = 256 + i
            guard (0..<limit).contains(pair.left), (0..<limit).contains(pair.right) else {
                return "merge \(i) [\(pair.left), \(pair.right)] uses a token outside 0..<\(limit) "
                    + "(bytes and the tokens of earlier merges)"
            }
            guard seen.insert(pair).inserted else { return "merge \(i) [\(pair.left), \(pair.right)] repeats an earlier one" }
        }
        return nil
    }

    /// 256 byte tokens plus the number of merges.
    public var vocabularySize: Int { 256 + merges.count }

    /// The bytes that token `id` stands for.
    ///
    /// - Precondition: `id` is in `0..<vocabularySize`.
    public func bytes(of id: Int) -> [UInt8] {
        checkIDs([id], op: "ByteLevelBPETokenizer.bytes(of:)")
        return tokenBytes[id]
    }

    // MARK: Training

    /// Learns merges from `text` until the vocabulary holds `vocabularySize` tokens, or fewer when no
    /// adjacent pair occurs at least twice (see the type's rules).
    ///
    /// - Precondition: `vocabularySize >= 256`.
    public init(training text: String, vocabularySize: Int) {
        precondition(vocabularySize >= 256,
                     "ByteLevelBPETokenizer: vocabularySize must be at least 256 (the byte tokens), got \(vocabularySize)")
        var chunkCounts: [[UInt8]: Int] = [:]
        forEachChunk(Array(text.utf8)) { chunkCounts[Array($0), default: 0] += 1 }
        // Sorted, so that the work (not just the result) is the same on every run.
        let chunks = chunkCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var trainer = MergeTrainer(words: chunks.map { $0.key.map(Int.init) }, counts: chunks.map(\.value))
        var merges: [Pair] = []
        while 256 + merges.count < vocabularySize, let pair = trainer.mostFrequentPair(minimumCount: 2) {
            trainer.merge(pair, into: 256 + merges.count)
            merges.append(pair)
        }
        self.init(unchecked: merges)
    }

    // MARK: Encoding and decoding

    /// The tokens of `text`'s UTF-8 bytes with the merges applied. Never throws: every byte is a token.
    public func encode(_ text: String) -> [Int] {
        var tokens: [Int] = []
        var cache: [ArraySlice<UInt8>: [Int]] = [:]
        forEachChunk(Array(text.utf8)) { chunk in
            if let known = cache[chunk] { tokens += known; return }
            let encoded = encodeChunk(chunk)
            cache[chunk] = encoded
            tokens += encoded
        }
        return tokens
    }

    /// One chunk's tokens: the lowest-ranked merge present applied everywhere, repeatedly.
    private func encodeChunk(_ chunk: ArraySlice<UInt8>) -> [Int] {
        var word = chunk.map(Int.init)
        while word.count > 1 {
            var best: (rank: Int, pair: Pair)?
            for i in 0..<(word.count - 1) {
                let pair = Pair(word[i], word[i + 1])
                if let rank = ranks[pair], rank < (best?.rank ?? .max) { best = (rank, pair) }
            }
            guard let best else { break }
            word = merged(word, best.pair, into: 256 + best.rank)
        }
        return word
    }

    /// The text whose UTF-8 bytes are those of `tokens`. Token sequences that cut a multi-byte character
    /// (possible when a model generates them) decode with U+FFFD in its place.
    ///
    /// - Precondition: every id is in `0..<vocabularySize`.
    public func decode(_ tokens: [Int]) -> String {
        checkIDs(tokens, op: "ByteLevelBPETokenizer.decode")
        return String(decoding: tokens.flatMap { tokenBytes[$0] }, as: UTF8.self)
    }

    // MARK: Files

    /// Writes the merges to `url` (``TokenizerFile``, type `"byte-level-bpe"`).
    public func save(to url: URL) throws(DataError) {
        try TokenizerFile.write(type: Self.typeName, fields: ["merges": merges.map { [$0.left, $0.right] }], to: url.path)
    }

    /// The byte-level BPE tokenizer saved at `path`.
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
        try file.requireKeys(["merges"])
        var merges: [Pair] = []
        for (i, item) in try file.array("merges").enumerated() {
            guard let pair = item as? [Any], pair.count == 2 else {
                throw file.invalid("\"merges\"[\(i)] must be a pair [left, right]")
            }
            merges.append(Pair(try file.integer(pair[0], "\"merges\"[\(i)][0]"),
                               try file.integer(pair[1], "\"merges\"[\(i)][1]")))
        }
        if let fault = Self.fault(in: merges) { throw file.invalid(fault) }
        self.init(unchecked: merges)
    }

    public static func == (a: ByteLevelBPETokenizer, b: ByteLevelBPETokenizer) -> Bool { a.merges == b.merges }
}

/// Calls `body` with each chunk of `bytes`: a chunk starts at the start and at every ASCII whitespace byte.
private func forEachChunk(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
    var start = 0
    for i in bytes.indices.dropFirst() where isASCIIWhitespace(bytes[i]) {
        body(bytes[start..<i])
        start = i
    }
    if start < bytes.count { body(bytes[start...]) }
}

private func isASCIIWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}

/// `word` with every non-overlapping occurrence of `pair`, left to right, replaced by `token`.
private func merged(_ word: [Int], _ pair: ByteLevelBPETokenizer.Pair, into token: Int) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(word.count)
    var i = 0
    while i < word.count {
        if i + 1 < word.count, word[i] == pair.left, word[i + 1] == pair.right {
            out.append(token)
            i += 2
        } else {
            out.append(word[i])
            i += 1
        }
    }
    return out
}

/// Pair counts over distinct chunks ("words") weighted by how often each occurs, updated incrementally as
/// merges are made: a merge recounts only the words that held its pair.
private struct MergeTrainer {
    var words: [[Int]]
    let counts: [Int]
    var pairCounts: [ByteLevelBPETokenizer.Pair: Int] = [:]
    /// The words each pair has occurred in (a superset: entries are not removed when a merge ends an occurrence).
    var pairWords: [ByteLevelBPETokenizer.Pair: Set<Int>] = [:]

    init(words: [[Int]], counts: [Int]) {
        self.words = words
        self.counts = counts
        for w in words.indices { add(word: w, sign: 1) }
    }

    /// The word's non-overlapping pair occurrences, left to right (a run `a a a` holds `a a` once).
    private static func pairs(of word: [Int]) -> [ByteLevelBPETokenizer.Pair] {
        var result: [ByteLevelBPETokenizer.Pair] = []
        var i = 0
        while i + 1 < word.count {
            result.append(.init(word[i], word[i + 1]))
            // Skip one position inside a run of one token, so overlapping occurrences are not counted twice.
            i += (word[i] == word[i + 1] && i + 2 < word.count && word[i + 2] == word[i]) ? 2 : 1
        }
        return result
    }

    private mutating func add(word w: Int, sign: Int) {
        for pair in Self.pairs(of: words[w]) {
            pairCounts[pair, default: 0] += sign * counts[w]
            if sign > 0 { pairWords[pair, default: []].insert(w) }
        }
    }

    /// The most frequent pair (ties: smaller left id, then smaller right id), if it occurs `minimumCount` times.
    func mostFrequentPair(minimumCount: Int) -> ByteLevelBPETokenizer.Pair? {
        var best: (pair: ByteLevelBPETokenizer.Pair, count: Int)?
        for (pair, count) in pairCounts where count >= minimumCount {
            guard let b = best else { best = (pair, count); continue }
            if count > b.count || (count == b.count && (pair.left, pair.right) < (b.pair.left, b.pair.right)) {
                best = (pair, count)
            }
        }
        return best?.pair
    }

    mutating func merge(_ pair: ByteLevelBPETokenizer.Pair, into token: Int) {
        for w in pairWords[pair] ?? [] {
            add(word: w, sign: -1)
            words[w] = merged(words[w], pair, into: token)
            add(word: w, sign: 1)
        }
        pairWords[pair] = nil
        pairCounts[pair] = nil
    }
}
