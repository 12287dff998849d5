import Data
import ExampleSupport
import Foundation
import Testing
import Training
@testable import example_mlp

/// Writes a tiny Fashion-MNIST-shaped data set (IDX, gzip) whose classes are learnable: class k
/// lights up row band k of the image.
func writeTinyFashionMNIST(to directory: URL, trainCount: Int = 96, testCount: Int = 40) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let generator = RandomGenerator(seed: 7)
    for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
        var pixels = [UInt8](repeating: 0, count: count * 28 * 28)
        var labels = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let label = i % 10
            labels[i] = UInt8(label)
            for r in (label * 2)..<(label * 2 + 3) {
                for c in 0..<28 { pixels[i * 784 + r * 28 + c] = UInt8(180 + generator.nextBelow(75)) }
            }
        }
        try IDXFile(dimensions: [count, 28, 28], bytes: pixels)
            .save(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"), gzip: true)
        try IDXFile(dimensions: [count], bytes: labels)
            .save(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"), gzip: true)
    }
}

private func temporaryDirectory(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("example-mlp-\(name)-\(UUID().uuidString)")
}

@Suite struct MLPExampleTests {
    @Test func trainingLoopRunsAndWritesItsOutputs() throws {
        let data = temporaryDirectory("data"), output = temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: output) }
        try writeTinyFashionMNIST(to: data)
        let train = try FashionMNIST(directory: data.path, split: .train)
        let test = try FashionMNIST(directory: data.path, split: .test)
        let configuration = ClassifierTrainingConfiguration(epochs: 2, batchSize: 16, outputDirectory: output.path, modelName: "MLP")
        let result = try trainMLP(configuration, learningRate: 1e-3, train: train, test: test,
                                  classNames: FashionMNIST.classNames, log: { _ in })

        #expect(result.stepLosses.count == 2 * 6)
        #expect(result.stepLosses.allSatisfy { $0.isFinite })
        // The bands are trivially separable: 12 Adam steps bring the loss well below ln 10 ≈ 2.30.
        #expect(result.stepLosses.last! < result.stepLosses.first!)
        #expect(result.testAccuracy.count == 2)
        #expect(result.testAccuracy.allSatisfy { (0...1).contains($0) })
        for file in ["loss.png", "accuracy.png", "confusion.png", "model.safetensors", "optimizer.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file) missing")
        }
        let image = try PNGImage(contentsOf: output.appendingPathComponent("loss.png").path)
        #expect(image.width > 0 && image.height > 0)
        // The checkpoint loads back into a fresh model of the same architecture.
        let restored = makeMLP()
        _ = try restored.load(from: output.appendingPathComponent("model.safetensors"))
    }

    /// `--checkpoint-dir` saves a set per epoch; `--resume` continues from the newest one and ends where an
    /// uninterrupted run ends, bit for bit. It runs in a process of its own (see ``runTestInOwnProcess(_:)``).
    @Test func resumingFromACheckpointSetMatchesAnUninterruptedRun() throws {
        let run = try runTestInOwnProcess("childComparesResumedMLPRun")
        #expect(run.status == 0, "the child's comparison failed:\n\(run.output.suffix(4000))")
    }

    @Test(.enabled(if: runsAsChild("childComparesResumedMLPRun"), "runs only as the child of resumingFromACheckpointSetMatchesAnUninterruptedRun"))
    func childComparesResumedMLPRun() throws {
        let data = temporaryDirectory("data"), output = temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: output) }
        try writeTinyFashionMNIST(to: data)
        let train = try FashionMNIST(directory: data.path, split: .train)
        let test = try FashionMNIST(directory: data.path, split: .test)
        func run(epochs: Int, checkpoints: String, resume: Bool) throws -> (state: [String: Tensor], losses: [Double]) {
            let configuration = ClassifierTrainingConfiguration(epochs: epochs, batchSize: 16, outputDirectory: output.path, modelName: "MLP",
                                                                checkpointDirectory: checkpoints, resume: resume)
            let result = try trainMLP(configuration, learningRate: 1e-3, train: train, test: test, classNames: FashionMNIST.classNames,
                                      log: { _ in })
            let model = makeMLP()
            try model.load(from: output.appendingPathComponent("model.safetensors"))
            return (model.stateDict(), result.stepLosses)
        }
        let whole = try run(epochs: 2, checkpoints: output.appendingPathComponent("whole").path, resume: false)
        let interrupted = output.appendingPathComponent("interrupted").path
        let first = try run(epochs: 1, checkpoints: interrupted, resume: false)
        #expect(CheckpointDirectory.latestComplete(in: URL(fileURLWithPath: interrupted))?.metadata["epoch"] == "1")
        let resumed = try run(epochs: 2, checkpoints: interrupted, resume: true)
        #expect(first.losses == Array(whole.losses.prefix(6)), "\(first.losses) vs \(whole.losses)")
        #expect(resumed.losses == Array(whole.losses.suffix(6)), "\(resumed.losses) vs \(whole.losses)")
        #expect(resumed.state.keys.sorted() == whole.state.keys.sorted())
        let differing = whole.state.keys.filter { resumed.state[$0] != whole.state[$0] }.sorted()
        #expect(differing.isEmpty, "\(differing) differ")
        #expect(CheckpointDirectory.latestComplete(in: URL(fileURLWithPath: interrupted))?.step == 12)
    }

    @Test func missingDataSetExitsNonZeroWithTheInstallCommand() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("example-mlp")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "example-mlp not built next to the tests at \(binary.path)")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--data-dir", "/nonexistent/fashion-mnist", "--epochs", "1"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(message.contains("apt-get install dataset-fashion-mnist"))
        #expect(message.contains("--data-dir"))
    }
}
