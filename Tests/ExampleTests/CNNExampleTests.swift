import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Testing
import Training
@testable import example_cnn

/// Ten classes of 28×28 images: class k is a bright horizontal band at rows 2k…2k+2.
private func bandImages(count: Int = 40) -> ArrayDataset<(Tensor, Int)> {
    let generator = RandomGenerator(seed: 3)
    return ArrayDataset((0..<count).map { i in
        var image = Tensor.rand([1, 28, 28], generator: generator) * 0.1
        for r in (2 * (i % 10))..<(2 * (i % 10) + 3) { for c in 0..<28 { image[0, r, c] = 1 } }
        return (image, i % 10)
    })
}

@Suite struct CNNExampleTests {
    @Test(arguments: CNNModel.allCases)
    func modelsMapTheirInputToTenLogits(model: CNNModel) {
        let network = model.make(inputChannels: 1)
        let x = Variable(Tensor.rand([2, 1, model.inputSize, model.inputSize]))
        #expect(network(x).shape == [2, 10])
    }

    @Test func trainingLoopRunsOnTinyImages() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("example-cnn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let data = bandImages()
        let network = CNNModel.cnn.make(inputChannels: 1)
        let before = network.stateDict()
        let configuration = ClassifierTrainingConfiguration(epochs: 1, batchSize: 8, outputDirectory: output.path, modelName: "CNN")
        let result = try trainClassifier(network, optimizer: Adam(network.parameters(), learningRate: 1e-3),
                                         configuration: configuration, train: data, test: data,
                                         classNames: FashionMNIST.classNames, log: { _ in })
        #expect(result.stepLosses.count == 5)
        #expect(result.stepLosses.allSatisfy { $0.isFinite })
        let after = network.stateDict()
        for (name, value) in before { #expect(after[name]! != value, "parameter \(name) did not change") }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
    }

    /// `--checkpoint-dir` and `--resume` (shared with example-mlp): 1 epoch, then resume to 2, ends where 2 epochs
    /// end, bit for bit, with augmented data that the resume moves on to the epoch it resumes at. It runs in a process
    /// of its own (see ``runTestInOwnProcess(_:)``).
    @Test func resumingWithAugmentedDataMatchesAnUninterruptedRun() throws {
        let run = try runTestInOwnProcess("childComparesResumedCNNRun")
        #expect(run.status == 0, "the child's comparison failed:\n\(run.output.suffix(4000))")
    }

    @Test(.enabled(if: runsAsChild("childComparesResumedCNNRun"), "runs only as the child of resumingWithAugmentedDataMatchesAnUninterruptedRun"))
    func childComparesResumedCNNRun() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("example-cnn-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let augmentation = RandomTransform.randomCrop(size: 28, padding: 2).then(.randomHorizontalFlip())
        let initial = CNNModel.cnn.make(inputChannels: 1).stateDict()
        func run(epochs: Int, _ name: String, resume: Bool = false, catchUp: Bool = true) throws -> (losses: [Double], state: [String: Tensor]) {
            // Same initial weights in every run, whatever other tests draw from the global generator meanwhile.
            let network = CNNModel.cnn.make(inputChannels: 1)
            try network.loadStateDict(initial)
            let data = bandImages().augmentingInputs(augmentation, seed: 11)
            let configuration = ClassifierTrainingConfiguration(epochs: epochs, batchSize: 8, outputDirectory: root.appendingPathComponent(name).path,
                                                                modelName: "CNN", checkpointDirectory: root.appendingPathComponent("\(name)-sets").path,
                                                                resume: resume)
            let result = try trainClassifier(network, optimizer: Adam(network.parameters(), learningRate: 1e-3), configuration: configuration,
                                             train: data, test: bandImages(count: 10), classNames: FashionMNIST.classNames,
                                             resumeData: { if catchUp { data.resume(atEpoch: $0) } }, log: { _ in })
            return (result.stepLosses, network.stateDict())
        }
        let whole = try run(epochs: 2, "whole")
        _ = try run(epochs: 1, "interrupted")
        let resumed = try run(epochs: 2, "interrupted", resume: true)
        #expect(resumed.losses == Array(whole.losses.suffix(5)), "\(resumed.losses) vs \(whole.losses)")
        #expect(resumed.state.keys.sorted() == whole.state.keys.sorted())
        let differing = whole.state.keys.filter { resumed.state[$0] != whole.state[$0] }.sorted()
        #expect(differing.isEmpty, "\(differing) differ")
        // Without catching the data up, the resumed epoch sees epoch 1's crops and flips again: the losses differ by far
        // more than rounding.
        _ = try run(epochs: 1, "stale")
        let stale = try run(epochs: 2, "stale", resume: true, catchUp: false)
        let staleDifference = zip(stale.losses, whole.losses.suffix(5)).map { abs($0 - $1) }.max() ?? 0
        #expect(staleDifference > 1e-4, "\(stale.losses) vs \(whole.losses)")
    }

    @Test func resumeNeedsACheckpointDirectory() throws {
        #expect(throws: (any Error).self) { try ExampleCNN.parseAsRoot(["--resume"]) }
        let command = try #require(try ExampleCNN.parseAsRoot(["--checkpoint-dir", "sets", "--resume"]) as? ExampleCNN)
        #expect(command.checkpoints.checkpointDirectory == "sets" && command.checkpoints.resume)
    }

    @Test func cifarIsDetectedByItsFirstBatchFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(!cifarIsPresent(in: directory.path))
        FileManager.default.createFile(atPath: directory.appendingPathComponent("data_batch_1.bin").path, contents: Data())
        #expect(cifarIsPresent(in: directory.path))
    }
}
