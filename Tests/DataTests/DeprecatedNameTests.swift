import class Foundation.FileManager
import Data
import Testing

// Every spelling from before the naming convention (Sources/Data/DeprecatedNames.swift) still compiles
// and gives what its new name gives; the old calls sit in a deprecated method reached through a protocol, as in
// AutoGradTests' DeprecatedNameTests, so that they warn nobody.

private protocol Spellings {
    func results() -> [Tensor]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results() -> [Tensor] {
        [Transform.oneHot(classes: 4)(2), Data.oneHot([1, 0, 2], classes: 3, dtype: .float64)]
    }
}

private struct New: Spellings {
    func results() -> [Tensor] {
        [Transform.oneHot(classCount: 4)(2), Data.oneHot([1, 0, 2], classCount: 3, dtype: .float64)]
    }
}

@Test func deprecatedSpellingsGiveWhatTheirNewNamesGive() {
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results() }
    #expect(results[0].count == 2 && results[0] == results[1])
}

// The path-string writers, old and new, write the same bytes.

private protocol FileWriters {
    func write(into directory: TemporaryDirectory) throws
}

private let sampleImage = PNGImage(width: 2, height: 1, colorType: .grayscale, pixels: [0, 255])
private let samplePlot: Plot = {
    var plot = Plot(title: "loss", width: 200, height: 150)
    plot.add("train", y: [3, 2, 1])
    return plot
}()
private let sampleIDX = IDXFile(dimensions: [2], bytes: [7, 9])
private let sampleCIFAR = CIFARBinaryFile(labels: [3], pixels: [UInt8](repeating: 5, count: 3072))
private let sampleTokenizer = CharacterTokenizer(training: "abc")

private struct OldWriters: FileWriters {
    @available(*, deprecated)
    func write(into directory: TemporaryDirectory) throws {
        try sampleImage.write(to: directory.file("image.png"))
        try samplePlot.write(to: directory.file("plot.png"))
        try ImageGrid.write(Tensor.ones([2, 3, 3]), to: directory.file("grid.png"), columns: 2)
        try sampleIDX.write(to: directory.file("idx.gz"), gzip: true)
        try sampleCIFAR.write(to: directory.file("cifar.bin"))
        try sampleTokenizer.save(to: directory.file("tokenizer.json"))
    }
}

private struct NewWriters: FileWriters {
    func write(into directory: TemporaryDirectory) throws {
        try sampleImage.save(to: directory.url("image.png"))
        try samplePlot.save(to: directory.url("plot.png"))
        try ImageGrid.save(Tensor.ones([2, 3, 3]), to: directory.url("grid.png"), columns: 2)
        try sampleIDX.save(to: directory.url("idx.gz"), gzip: true)
        try sampleCIFAR.save(to: directory.url("cifar.bin"))
        try sampleTokenizer.save(to: directory.url("tokenizer.json"))
    }
}

@Test func deprecatedPathWritersWriteWhatSaveWrites() throws {
    let old = try TemporaryDirectory(), new = try TemporaryDirectory()
    defer { old.cleanup(); new.cleanup() }
    let writers: [any FileWriters] = [OldWriters(), NewWriters()]
    try writers[0].write(into: old)
    try writers[1].write(into: new)
    for name in ["image.png", "plot.png", "grid.png", "idx.gz", "cifar.bin", "tokenizer.json"] {
        let a = FileManager.default.contents(atPath: old.file(name)), b = FileManager.default.contents(atPath: new.file(name))
        #expect(a != nil && a == b, "\(name): the deprecated writer and save(to:) differ")
    }
}
