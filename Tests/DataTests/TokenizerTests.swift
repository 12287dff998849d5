import Foundation
import Testing
@testable import Data

private let multilingual = "naïve café — 日本語, e\u{301} (two scalars), 😀 and 👩‍👩‍👧\r\n\ttabs\u{0}nul"

@Suite struct CharacterTokenizerTests {
    @Test func vocabularyIsTheSortedDistinctScalars() throws {
        let tokenizer = CharacterTokenizer(training: "hello")
        #expect(tokenizer.characters == ["e", "h", "l", "o"])
        #expect(tokenizer.vocabularySize == 4)
        #expect(try tokenizer.encode("hole") == [1, 3, 2, 0])
        #expect(tokenizer.decode([1, 0, 2, 2, 3]) == "hello")
        #expect(try tokenizer.encode("") == [])
    }

    /// Scalars, as Python's `str` counts them: "e" + combining acute is two tokens, as is a flag of two scalars.
    @Test func roundTripsNonASCII() throws {
        let tokenizer = CharacterTokenizer(training: multilingual)
        let ids = try tokenizer.encode(multilingual)
        #expect(ids.count == multilingual.unicodeScalars.count)
        #expect(tokenizer.decode(ids) == multilingual)
        #expect(try tokenizer.encode("e\u{301}").count == 2)
        #expect(tokenizer.characters.map(\.value) == tokenizer.characters.map(\.value).sorted())
        #expect(try tokenizer.encodeIndices("日本").shape == [2])
    }

    @Test func unknownCharacterIsRefusedWithItsPosition() {
        let tokenizer = CharacterTokenizer(training: "hello")
        #expect(throws: TokenizerError.unknownCharacter("p", offset: 3)) { try tokenizer.encode("help") }
        #expect(throws: TokenizerError.unknownCharacter("é", offset: 0)) { try tokenizer.encode("é") }
        let message = TokenizerError.unknownCharacter("é", offset: 4).description
        #expect(message.contains("U+00E9") && message.contains("position 4"))
    }

    @Test func savesAndLoads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let tokenizer = CharacterTokenizer(training: multilingual)
        try tokenizer.save(to: dir.url("chars.json"))
        #expect(try CharacterTokenizer(contentsOf: dir.file("chars.json")) == tokenizer)
        let loaded = try TokenizerFile.load(from: dir.file("chars.json"))
        #expect((loaded as? CharacterTokenizer) == tokenizer)
        #expect(try loaded.encode(multilingual) == tokenizer.encode(multilingual))
    }
}

@Suite struct ByteLevelBPETokenizerTests {
    /// Worked by hand from the type's rules. Chunks: "hug" " hug" " pug" " pun" " bun".
    /// Counts: ug 3; hu, ␣p, pu, un 2 → merge 0 = u+g (256).
    /// Then h·256 2, ␣p 2, un 2 (p·256 1, pu 1): tie, smallest left id is ␣ (32) → merge 1 = ␣+p (257).
    /// Then h·256 2, un 2: tie, h (104) < u (117) → merge 2 = h+256 (258); then un 2 → merge 3 = u+n (259).
    /// Every remaining pair occurs once, so training stops at 260 tokens however many were asked for.
    @Test func mergesOfATinyCorpusCheckedByHand() throws {
        let text = "hug hug pug pun bun"
        let u = 117, g = 103, space = 32, p = 112, h = 104, n = 110, b = 98
        let bpe = ByteLevelBPETokenizer(training: text, vocabularySize: 1000)
        #expect(bpe.merges == [.init(u, g), .init(space, p), .init(h, 256), .init(u, n)])
        #expect(bpe.vocabularySize == 260)
        #expect(bpe.encode("hug pun") == [258, 257, 259])
        #expect(bpe.encode("bug") == [b, 256])
        #expect(bpe.encode(text) == [258, space, 258, 257, 256, 257, 259, space, b, 259])
        #expect(bpe.bytes(of: 258) == Array("hug".utf8))
        // A smaller vocabulary stops after the first merges.
        #expect(ByteLevelBPETokenizer(training: text, vocabularySize: 258).merges == [.init(u, g), .init(space, p)])
        #expect(ByteLevelBPETokenizer(training: text, vocabularySize: 256).merges.isEmpty)
    }

    /// Overlapping occurrences count once: "aaaa" holds a+a twice, " aaa" once, so a+a (3) is merged and
    /// "aaaaa" encodes as aa aa a.
    @Test func runsCountNonOverlappingPairs() {
        let bpe = ByteLevelBPETokenizer(training: "aaaa aaa", vocabularySize: 300)
        #expect(bpe.merges == [.init(97, 97)])
        #expect(bpe.encode("aaaaa") == [256, 256, 97])
    }

    @Test func trainingIsDeterministic() {
        let text = String(repeating: "the cat sat on the mat; then the hat. ", count: 20) + multilingual
        let a = ByteLevelBPETokenizer(training: text, vocabularySize: 300)
        let b = ByteLevelBPETokenizer(training: text, vocabularySize: 300)
        #expect(a == b && a.merges.count > 10)
        #expect(a.encode(text).count < text.utf8.count / 3)
    }

    @Test func roundTripsNonASCIIAndUnseenBytes() {
        let bpe = ByteLevelBPETokenizer(training: "plain ascii text, plain and simple", vocabularySize: 280)
        for text in [multilingual, "", "\u{0}", "日本😀", String(repeating: "plain ", count: 5)] {
            #expect(bpe.decode(bpe.encode(text)) == text)
        }
        // Bytes never seen in training are their own tokens.
        #expect(bpe.encode("日本😀") == Array("日本😀".utf8).map(Int.init))
        // A cut multi-byte character decodes with a replacement character rather than failing.
        #expect(bpe.decode([0xE6, 0x97]) == "\u{FFFD}")
    }

    @Test func savesAndLoads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let bpe = ByteLevelBPETokenizer(training: "hug hug pug pun bun", vocabularySize: 1000)
        try bpe.save(to: dir.url("bpe.json"))
        #expect(try ByteLevelBPETokenizer(contentsOf: dir.file("bpe.json")) == bpe)
        #expect((try TokenizerFile.load(from: dir.file("bpe.json")) as? ByteLevelBPETokenizer) == bpe)
        // The documented format, byte for byte.
        let json = try String(contentsOfFile: dir.file("bpe.json"), encoding: .utf8)
        #expect(json == #"{"format":"swift-autograd.tokenizer","merges":[[117,103],[32,112],[104,256],[117,110]],"type":"byte-level-bpe","version":1}"# + "\n")
    }
}

@Suite struct TokenizerFileTests {
    static let header = #""format": "swift-autograd.tokenizer", "version": 1"#

    /// Each file is rejected with `invalidTokenizerFile` and a reason containing the given words.
    @Test(arguments: [
        ("not json at all", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (#"{"format": "other", "version": 1, "type": "characters", "characters": []}"#, "\"format\""),
        (#"{"version": 1, "type": "characters", "characters": []}"#, "\"format\""),
        ("{\(header.replacingOccurrences(of: "1", with: "2")), \"type\": \"characters\", \"characters\": []}", "\"version\""),
        ("{\(header.replacingOccurrences(of: "1", with: "true")), \"type\": \"characters\", \"characters\": []}", "\"version\""),
        ("{\(header), \"type\": \"words\", \"characters\": []}", "unknown \"type\" \"words\""),
        ("{\(header), \"type\": 3}", "\"type\" must be a string"),
        ("{\(header), \"type\": \"characters\"}", "missing key \"characters\""),
        ("{\(header), \"type\": \"characters\", \"characters\": [], \"extra\": 1}", "unexpected key \"extra\""),
        ("{\(header), \"type\": \"characters\", \"characters\": \"ab\"}", "must be an array"),
        ("{\(header), \"type\": \"characters\", \"characters\": [\"ab\"]}", "[0] must be a string of exactly one"),
        ("{\(header), \"type\": \"characters\", \"characters\": [\"b\", \"a\"]}", "strictly increasing"),
        ("{\(header), \"type\": \"characters\", \"characters\": [\"a\", \"a\"]}", "strictly increasing"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, 2, 3]]}", "[0] must be a pair"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1.5, 2]]}", "[0][0] must be a whole number"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, true]]}", "[0][1] must be a whole number"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, \"2\"]]}", "[0][1] must be a whole number"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[256, 2]]}", "outside 0..<256"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, 2], [-1, 2]]}", "outside 0..<257"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, 2], [1, 2]]}", "repeats"),
        ("{\(header), \"type\": \"byte-level-bpe\", \"merges\": [[1, 2]], \"characters\": []}", "unexpected key"),
    ])
    func badFileIsRefused(json: String, reason: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = try dir.write(Array(json.utf8), to: "t.json")
        let error = dataError { _ = try TokenizerFile.load(from: path) }
        guard case .invalidTokenizerFile(let message)? = error?.problem else {
            Issue.record("expected invalidTokenizerFile for \(json), got \(String(describing: error))"); return
        }
        #expect(error?.path == path)
        #expect(message.contains(reason), "\(message)")
    }

    @Test func aFileOfTheOtherTypeIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try CharacterTokenizer(training: "ab").save(to: dir.url("c.json"))
        try ByteLevelBPETokenizer(training: "ab ab", vocabularySize: 257).save(to: dir.url("b.json"))
        #expect(dataError { _ = try ByteLevelBPETokenizer(contentsOf: dir.file("c.json")) }?.problem
            == .invalidTokenizerFile("\"type\" is \"characters\", expected \"byte-level-bpe\""))
        #expect(dataError { _ = try CharacterTokenizer(contentsOf: dir.file("b.json")) }?.problem
            == .invalidTokenizerFile("\"type\" is \"byte-level-bpe\", expected \"characters\""))
        #expect(dataError { _ = try TokenizerFile.load(from: dir.file("absent.json")) }?.problem == .fileNotFound)
    }
}
