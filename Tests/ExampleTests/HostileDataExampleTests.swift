import Data
import Foundation
import Testing

/// Runs an example binary built next to the tests; returns how it ended and its standard error.
private func run(_ example: String, _ arguments: [String]) throws -> (reason: Process.TerminationReason, status: Int32, errors: String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(example)
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(example) not built next to the tests at \(binary.path)")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let data = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationReason, process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Data directories that used to crash the examples (index out of range, a trap in Linear or in the
/// IDX reader): each must now end in a one-line error naming the file and a non-zero exit.
@Suite struct HostileDataExampleTests {
    enum Case: String, CaseIterable { case noItems, smallImages, intMaxDimensions }

    func writeData(_ kind: Case, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for prefix in ["train", "t10k"] {
            let images = "\(directory)/\(prefix)-images-idx3-ubyte", labels = "\(directory)/\(prefix)-labels-idx1-ubyte"
            switch kind {
            case .noItems:
                try IDXFile(dimensions: [0, 28, 28], bytes: []).save(to: URL(fileURLWithPath: images), gzip: true)
                try IDXFile(dimensions: [0], bytes: []).save(to: URL(fileURLWithPath: labels), gzip: true)
            case .smallImages:
                try IDXFile(dimensions: [3, 4, 3], bytes: [UInt8](repeating: 9, count: 36)).save(to: URL(fileURLWithPath: images))
                try IDXFile(dimensions: [3], bytes: [0, 1, 2]).save(to: URL(fileURLWithPath: labels))
            case .intMaxDimensions:
                // 454279 × 31252369 × 649657 == Int.max
                try Data([0, 0, 8, 3, 0, 0x06, 0xEE, 0x87, 0x01, 0xDC, 0xDF, 0x91, 0, 0x09, 0xE9, 0xB9]).write(to: URL(fileURLWithPath: images))
                try IDXFile(dimensions: [3], bytes: [0, 1, 2]).save(to: URL(fileURLWithPath: labels))
            }
        }
    }

    @Test(arguments: ["example-mlp", "example-cnn"], Case.allCases)
    func badDataExitsWithAMessageNamingTheFile(example: String, kind: Case) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(kind)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeData(kind, to: directory)
        let (reason, status, errors) = try run(example, ["--data-dir", directory, "--epochs", "1", "--output-dir", directory + "/out"])
        #expect(reason == .exit && status == 1, "\(example) ended by \(reason) with status \(status): \(errors)")
        #expect(errors.contains("error: \(directory)/train-images-idx3-ubyte"), "\(errors)")
        let expected = ["noItems": "0 items", "smallImages": "images are 4×3", "intMaxDimensions": "implausible size"][kind.rawValue]!
        #expect(errors.contains(expected), "\(errors)")
    }

    /// An `--output-dir` that cannot be created (its parent is a file) is reported before anything else — here
    /// before the missing data set — in one plain line, not after training with Foundation's error dump.
    @Test(arguments: ["example-mlp", "example-cnn", "example-gan"])
    func anUnwritableOutputDirectoryIsRefusedFirst(example: String) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("unwritable-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: base))
        let (reason, status, errors) = try run(example, ["--data-dir", base + "-missing", "--epochs", "1", "--output-dir", base + "/out"])
        #expect(reason == .exit && status == 1, "\(example) ended by \(reason) with status \(status): \(errors)")
        #expect(errors.hasPrefix("error: cannot write to --output-dir \(base)/out: "), "\(errors)")
        #expect(errors.split(separator: "\n").count == 1 && !errors.contains("Domain="), "\(errors)")
    }
}
