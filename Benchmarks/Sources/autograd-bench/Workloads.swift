import NN
import Optim

/// One training step of a reference workload, ready to be timed.
typealias Step = () -> Void

/// The workloads of WORKLOADS.md that this build can run, by id.
enum Workload: String, CaseIterable {
    case w1 = "W1", w5 = "W5"

    var summary: String {
        switch self {
        case .w1: return "MLP 784-512-256-10, Adam, batch 64"
        case .w5: return "matmul n = 256, 1024, 2048 (GFLOP/s)"
        }
    }

    /// Builds the model, optimiser and fixed random inputs, and returns one training step.
    func makeStep() -> Step {
        let generator = RandomGenerator(seed: 0)
        switch self {
        case .w1:
            let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
            let optimizer = Adam(model.parameters(), learningRate: 1e-3)
            let x = Variable(Tensor.rand([64, 784], generator: generator))
            let y = (0..<64).map { _ in Int(generator.nextBelow(10)) }
            return {
                optimizer.zeroGrad()
                crossEntropy(model(x), y).backward()
                optimizer.step()
            }
        case .w5:
            preconditionFailure("W5 is measured in GFLOP/s, not as a training step")
        }
    }
}
