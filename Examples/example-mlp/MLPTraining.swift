import Data
import ExampleSupport
import NN
import Optim

/// W1 of the workloads: Linear 784→512, ReLU, 512→256, ReLU, 256→10.
func makeMLP() -> Sequential {
    Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
}

/// Trains the W1 MLP with Adam on flattened images.
func trainMLP<D: Dataset, T: Dataset>(_ configuration: ClassifierTrainingConfiguration, learningRate: Double,
                                      train: D, test: T, classNames: [String],
                                      log: (String) -> Void = { print($0) }) throws -> ClassifierTrainingResult
where D.Element == (Tensor, Int), T.Element == (Tensor, Int) {
    RandomGenerator.manualSeed(configuration.seed)
    let model = makeMLP()
    let optimizer = Adam(model.parameters(), learningRate: learningRate)
    return try trainClassifier(model, optimizer: optimizer, configuration: configuration, train: train, test: test,
                               classNames: classNames, prepare: { $0.reshaped([$0.shape[0], -1]) }, log: log)
}
