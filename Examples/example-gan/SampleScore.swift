import Foundation
import NN

/// How recognisable images are to a Fashion-MNIST classifier — a small-scale stand-in for the Inception
/// Score: confident predictions mean clear garments, a spread histogram means many kinds of garment.
struct SampleScore {
    /// The mean probability of each image's most probable class.
    var meanConfidence: Double
    /// The fraction of images whose most probable class has probability above 0.9.
    var confidentFraction: Double
    /// How many images the classifier assigns to each class.
    var classCounts: [Int]

    /// The entropy in nats of the predicted-class histogram: ln 10 ≈ 2.303 when all ten classes are
    /// equally frequent, 0 when every image gets the same class.
    var classEntropy: Double {
        let total = Double(classCounts.reduce(0, +))
        return classCounts.reduce(0.0) { sum, count in
            count == 0 ? sum : sum - Double(count) / total * log(Double(count) / total)
        }
    }

    /// Scores `images` (`[N, 1, 28, 28]` in [0, 1]) with `classifier` (logits `[N, classes]`) in eval mode.
    init(classifier: Module, images: Tensor, batchSize: Int = 250) {
        precondition(images.rank == 4 && images.shape[0] > 0, "SampleScore: expected images [N, 1, 28, 28], got \(images.shape)")
        classifier.eval()
        defer { classifier.train() }
        var confidence = 0.0, confident = 0
        var counts: [Int] = []
        Graph.noGrad {
            for start in stride(from: 0, to: images.shape[0], by: batchSize) {
                let batch = images.sliced(axis: 0, start: start, end: min(start + batchSize, images.shape[0]))
                let probabilities = classifier(Variable(batch)).softmax(axis: 1).value
                let classes = probabilities.shape[1]
                if counts.isEmpty { counts = Array(repeating: 0, count: classes) }
                let values = probabilities.doubles
                for (row, predicted) in probabilities.argmax(axis: 1).enumerated() {
                    let p = values[row * classes + predicted]
                    confidence += p
                    if p > 0.9 { confident += 1 }
                    counts[predicted] += 1
                }
            }
        }
        meanConfidence = confidence / Double(images.shape[0])
        confidentFraction = Double(confident) / Double(images.shape[0])
        classCounts = counts
    }

    /// One line: confidence, fraction above 0.9 and class entropy.
    var summary: String {
        String(format: "mean confidence %.3f, above 0.9: %.1f%%, class entropy %.3f nats (max %.3f)",
               meanConfidence, confidentFraction * 100, classEntropy, log(Double(classCounts.count)))
    }
}
