import Data
import Foundation
import NN
import Optim
import Testing
@testable import ExampleSupport

@Suite struct ExampleSupportTests {
    @Test func movingAverageUsesTheAvailableWindow() {
        #expect(movingAverage([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
        #expect(movingAverage([], window: 3) == [])
    }

    @Test func classifierTrainingStopsAtANaNLossAndWritesNothing() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("classifier-nan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // Sixteen 1×4×4 images, one of them holding a NaN pixel: its batch's loss is NaN.
        let generator = RandomGenerator(seed: 2)
        let data = ArrayDataset((0..<16).map { i -> (Tensor, Int) in
            var image = Tensor.rand([1, 4, 4], generator: generator)
            if i == 11 { image[0, 2, 3] = .nan }
            return (image, i % 10)
        })
        let model = Sequential([Flatten(), Linear(16, 10)])
        let before = model.stateDict()
        let configuration = ClassifierTrainingConfiguration(epochs: 2, batchSize: 4, outputDirectory: output.path,
                                                            modelName: "tiny")
        #expect {
            _ = try trainClassifier(model, optimizer: SGD(model.parameters(), learningRate: 0.1), configuration: configuration,
                                    train: data, test: data, classNames: (0..<10).map(String.init), log: { _ in })
        } throws: { error in
            guard case let .nonFiniteLoss(step, _, value, _) = error as? NonFiniteError else { return false }
            return (1...4).contains(step) && value.isNaN
                && trainingFailureMessage(error, outputDirectory: output.path).contains("diverged")
        }
        // Stopped before the poisoned step: no parameter is NaN, no file was written.
        for (name, value) in model.stateDict() {
            #expect(value.doubles.allSatisfy { $0.isFinite }, "\(name) became non-finite")
            _ = before[name]
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }
}
