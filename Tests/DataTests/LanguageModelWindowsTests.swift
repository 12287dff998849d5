import Testing
@testable import Data

@Suite struct LanguageModelWindowsTests {
    @Test func windowsAndShiftedTargets() throws {
        let windows = try LanguageModelWindows(tokens: Array(0..<10), contextLength: 3, source: "t")
        #expect(windows.count == 7)
        let (x0, y0) = windows[0], (x6, y6) = windows[6]
        #expect(x0 == TensorIndices([0, 1, 2]) && y0 == TensorIndices([1, 2, 3]))
        #expect(x6 == TensorIndices([6, 7, 8]) && y6 == TensorIndices([7, 8, 9]))
        let tiled = try LanguageModelWindows(tokens: Array(0..<10), contextLength: 3, stride: 3, source: "t")
        #expect(tiled.count == 3)
        #expect(tiled[2].0 == TensorIndices([6, 7, 8]) && tiled[2].1 == TensorIndices([7, 8, 9]))
        // Exactly one window and its next token.
        #expect(try LanguageModelWindows(tokens: [4, 5], contextLength: 1, source: "t").count == 1)
    }

    @Test func tooShortTextIsATypedError() {
        #expect(throws: DataError(path: "fortunes (validation)", .textTooShort(count: 3, needed: 4))) {
            try LanguageModelWindows(tokens: [1, 2, 3], contextLength: 3, source: "fortunes (validation)")
        }
        #expect(DataError(path: "x", .textTooShort(count: 3, needed: 4)).description
            == "x: text too short: 3 tokens, but at least 4 are needed (a context window and its next token)")
    }

    /// Random windows from a seeded loader: the same batches on every run, other batches in the next epoch,
    /// and every target the token after its input.
    @Test func seededRandomBatchesAreReproducible() throws {
        let tokens = (0..<500).map { ($0 * 37) % 101 }
        let windows = try LanguageModelWindows(tokens: tokens, contextLength: 8, source: "t")
        func epoch(_ seed: UInt64, _ k: Int) -> [(TensorIndices, TensorIndices)] {
            var batches = DataLoader(windows, batchSize: 4, shuffle: true, seed: seed, dropLast: true).batches(epoch: k)
            var all: [(TensorIndices, TensorIndices)] = []
            while let batch = batches.next() { all.append(batch) }
            return all
        }
        let a = epoch(1, 0), b = epoch(1, 0), c = epoch(1, 1), d = epoch(2, 0)
        #expect(a.count == windows.count / 4)
        #expect(a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1))
        #expect(a.map(\.0) != c.map(\.0) && a.map(\.0) != d.map(\.0))
        for (inputs, targets) in a {
            #expect(inputs.shape == [4, 8] && targets.shape == [4, 8])
            for row in 0..<4 {
                let x = Array(inputs.values[(row * 8)..<(row * 8 + 8)])
                let y = Array(targets.values[(row * 8)..<(row * 8 + 8)])
                guard let start = (0...(tokens.count - 9)).first(where: { Array(tokens[$0..<($0 + 8)]) == x }) else {
                    Issue.record("window \(x) is not in the text"); continue
                }
                #expect(y == Array(tokens[(start + 1)...(start + 8)]))
            }
        }
    }

    @Test func collateStacksIndices() {
        let batch = TensorIndices.collate([TensorIndices([1, 2]), TensorIndices([3, 4]), TensorIndices([5, 6])])
        #expect(batch == TensorIndices(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]))
    }
}
