import Data
import ExampleSupport
import NN
import Optim

/// W1 of the workloads: Linear 784→512, ReLU, 512→256, ReLU, 256→10, initialised from `generator`.
func makeMLP(generator: RandomGenerator = .global) -> Sequential {
    Sequential(Linear(784, 512, generator: generator), ReLU(), Linear(512, 256, generator: generator), ReLU(),
               Linear(256, 10, generator: generator))
}

/// Trains the W1 MLP with Adam on flattened images.
func trainMLP<D: Dataset, T: Dataset>(_ configuration: ClassifierTrainingConfiguration, learningRate: Double,
                                      train: D, test: T, classNames: [String], model: Sequential? = nil,
                                      log: (String) -> Void = { print($0) }) throws -> ClassifierTrainingResult
where D.Element == (Tensor, Int), T.Element == (Tensor, Int) {
    RandomGenerator.manualSeed(configuration.seed)
    // Weights from a generator of the run's own, so that runs in one process (tests) do not share a sequence.
    let model = model ?? makeMLP(generator: RandomGenerator(seed: configuration.seed))
    let optimizer = Adam(model.parameters(), learningRate: learningRate)
    return try trainClassifier(model, optimizer: optimizer, configuration: configuration, train: train, test: test,
                               classNames: classNames, prepare: { $0.reshaped([$0.shape[0], -1]) }, log: log)
}
