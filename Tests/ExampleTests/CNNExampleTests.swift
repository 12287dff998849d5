import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Testing
@testable import example_cnn

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
        // Ten classes of 28×28 images: class k is a bright horizontal band at rows 2k…2k+2.
        let generator = RandomGenerator(seed: 3)
        let examples: [(Tensor, Int)] = (0..<40).map { i in
            var image = Tensor.rand([1, 28, 28], generator: generator) * 0.1
            for r in (2 * (i % 10))..<(2 * (i % 10) + 3) { for c in 0..<28 { image[0, r, c] = 1 } }
            return (image, i % 10)
        }
        let data = ArrayDataset(examples)
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

    @Test func cifarIsDetectedByItsFirstBatchFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(!cifarIsPresent(in: directory.path))
        FileManager.default.createFile(atPath: directory.appendingPathComponent("data_batch_1.bin").path, contents: Data())
        #expect(cifarIsPresent(in: directory.path))
    }
}
