import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Training

/// A flat training set: images `[count, 1, 28, 28]` and their labels, so that a teacher's logits can be computed
/// once and handed out per batch beside them.
struct ImageSet {
    let images: Tensor
    let labels: [Int]
    var count: Int { labels.count }

    init<D: Dataset>(_ data: D, limit: Int?) where D.Element == (Tensor, Int) {
        let count = Swift.min(data.count, limit ?? .max)
        let examples = (0..<count).map { data.element(at: $0) }
        images = Tensor.stack(examples.map(\.0), axis: 0)
        labels = examples.map(\.1)
    }

    /// Rows `indices` of `tensor` (its first dimension indexed like the images).
    static func rows(_ tensor: Tensor, _ indices: [Int]) -> Tensor { tensor.indexSelected(axis: 0, indices: indices) }
}

/// Mini-batch training with Adam: `loss(model, images, labels, indices)` per batch, `afterStep(step)` after each
/// optimiser step (the pruning schedule's hook). Returns nothing; the model is trained in place.
func train(_ model: Module, on data: ImageSet, epochs: Int, batchSize: Int, learningRate: Double, seed: UInt64,
           label: String, loss: (Module, Tensor, [Int], [Int]) -> Variable, afterStep: (Int) -> Void = { _ in }) {
    let optimizer = Adam(model.parameters(), learningRate: learningRate)
    let random = RandomGenerator(seed: seed)
    model.train()
    var step = 0
    for epoch in 0..<epochs {
        var order = Array(0..<data.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.nextBelow(UInt64(i + 1)))) }
        let batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<Swift.min($0 + batchSize, order.count)]) }
        let progress = ProgressBar(total: batches.count, label: "\(label) \(epoch + 1)/\(epochs)")
        var running = 0.0
        for indices in batches {
            let value = loss(model, ImageSet.rows(data.images, indices), indices.map { data.labels[$0] }, indices)
            optimizer.zeroGrad()
            value.backward()
            optimizer.step()
            step += 1
            afterStep(step)
            running = step == 1 ? value.value.item : 0.98 * running + 0.02 * value.value.item
            progress.advance(metrics: ["loss": running])
        }
    }
    model.eval()
}

/// The logits of `model` on every image, in evaluation mode, in batches of 500.
func logits(of model: Module, on images: Tensor) -> Tensor {
    model.eval()
    return Graph.noGrad {
        Tensor.concatenate(stride(from: 0, to: images.shape[0], by: 500).map { start in
            let end = Swift.min(start + 500, images.shape[0])
            return model(Variable(images.sliced(axis: 0, start: start, end: end))).value
        }, axis: 0)
    }
}
