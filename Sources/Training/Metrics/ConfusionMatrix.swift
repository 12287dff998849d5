import Data
import Foundation

/// Counts of (true class, predicted class) pairs, with the per-class and averaged scores read from them
/// (scikit-learn's `confusion_matrix`, `precision_recall_fscore_support`, `classification_report`).
///
/// Rows are true classes, columns predictions: `counts[truth][prediction]`. A score whose denominator
/// is zero (a class never predicted has no precision) is 0, scikit-learn's `zero_division=0`.
///
/// ```swift
/// var confusion = ConfusionMatrix(classNames: ["cat", "dog", "bird"])
/// for (images, labels) in DataLoader(test, batchSize: 500) {
///     confusion.add(truth: labels, predicted: model(Variable(images)).value.argmax(axis: 1))
/// }
/// print(confusion.table)
/// print(confusion.scores(average: .macro).f1)
/// try confusion.heatMap().save(to: URL(fileURLWithPath: "confusion.png"))
/// ```
public struct ConfusionMatrix: Equatable, Sendable {
    /// `counts[truth][prediction]`.
    public private(set) var counts: [[Int]]
    /// The name of each class, in index order.
    public let classNames: [String]

    /// An empty matrix over the named classes.
    ///
    /// - Precondition: at least one class.
    public init(classNames: [String]) {
        precondition(!classNames.isEmpty, "ConfusionMatrix: no classes")
        self.classNames = classNames
        counts = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    }

    /// An empty matrix over classes `0..<classCount`, named by their indices.
    public init(classCount: Int) {
        self.init(classNames: (0..<classCount).map(String.init))
    }

    /// The number of classes.
    public var classCount: Int { classNames.count }

    /// Adds one batch of labels and predictions.
    ///
    /// - Precondition: as many predictions as labels, each in `0..<classCount`.
    public mutating func add(truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count,
                     "ConfusionMatrix.add: \(truth.count) labels, \(predicted.count) predictions")
        for (t, p) in zip(truth, predicted) {
            precondition(counts.indices.contains(t) && counts.indices.contains(p),
                         "ConfusionMatrix.add: class \(counts.indices.contains(t) ? p : t) is outside 0..<\(classCount)")
            counts[t][p] += 1
        }
    }

    /// The number of samples counted.
    public var total: Int { counts.joined().reduce(0, +) }

    /// Fraction of samples on the diagonal (0 when empty).
    public var accuracy: Double {
        ratio(counts.indices.reduce(0) { $0 + counts[$1][$1] }, total)
    }

    /// Samples of class `c` (the row sum): its *support*.
    public func support(of c: Int) -> Int { counts[c].reduce(0, +) }

    /// Samples predicted as class `c` (the column sum).
    public func predictedCount(of c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }

    /// Of the samples predicted as `c`, the fraction that are `c`: TP / (TP + FP).
    public func precision(of c: Int) -> Double { ratio(counts[c][c], predictedCount(of: c)) }

    /// Of the samples of class `c`, the fraction predicted as `c`: TP / (TP + FN).
    public func recall(of c: Int) -> Double { ratio(counts[c][c], support(of: c)) }

    /// The harmonic mean of precision and recall of class `c`: 2·TP / (2·TP + FP + FN).
    public func f1(of c: Int) -> Double { ratio(2 * counts[c][c], support(of: c) + predictedCount(of: c)) }

    /// Precision, recall and F1 averaged over the classes as `average` says.
    public func scores(average: ClassificationAverage) -> ClassificationScores {
        let classes = Array(counts.indices)
        switch average {
        case .micro:
            // Every sample counts once as a true or false positive and once as a true or false negative,
            // so micro precision, recall and F1 all equal the accuracy.
            return ClassificationScores(precision: accuracy, recall: accuracy, f1: accuracy)
        case .macro:
            let n = Double(classCount)
            return ClassificationScores(precision: classes.reduce(0) { $0 + precision(of: $1) } / n,
                                        recall: classes.reduce(0) { $0 + recall(of: $1) } / n,
                                        f1: classes.reduce(0) { $0 + f1(of: $1) } / n)
        case .weighted:
            let n = Double(Swift.max(total, 1))
            func weighted(_ score: (Int) -> Double) -> Double {
                classes.reduce(0) { $0 + Double(support(of: $1)) * score($1) } / n
            }
            return ClassificationScores(precision: weighted(precision(of:)), recall: weighted(recall(of:)),
                                        f1: weighted(f1(of:)))
        }
    }

    /// The matrix as text: rows are true classes, columns predictions, with per-class recall.
    public var table: String {
        let names = classNames.map { String($0.prefix(11)) }
        let nameWidth = Swift.max(names.map(\.count).max() ?? 0, 9)
        var lines = [pad("true\\pred", nameWidth) + counts.indices.map { pad("\($0)", 6) }.joined() + pad("recall", 8)]
        for (i, row) in counts.enumerated() {
            lines.append(pad(names[i], nameWidth) + row.map { pad("\($0)", 6) }.joined()
                         + pad(String(format: "%.3f", recall(of: i)), 8))
        }
        return lines.joined(separator: "\n")
    }

    /// Per-class precision, recall, F1 and support, then the accuracy and the macro and weighted
    /// averages — the layout of scikit-learn's `classification_report`.
    public var report: String {
        let names = classNames.map { String($0.prefix(16)) }
        let nameWidth = Swift.max(names.map(\.count).max() ?? 0, 12)
        func row(_ name: String, _ s: ClassificationScores?, _ support: Int) -> String {
            let values = s.map { [$0.precision, $0.recall, $0.f1] } ?? []
            return pad(name, nameWidth) + values.map { pad(String(format: "%.3f", $0), 11) }.joined()
                + pad("", 11 * (3 - values.count)) + pad("\(support)", 10)
        }
        var lines = [pad("", nameWidth) + ["precision", "recall", "f1-score", "support"].map { pad($0, $0 == "support" ? 10 : 11) }.joined()]
        for c in counts.indices {
            lines.append(row(names[c], ClassificationScores(precision: precision(of: c), recall: recall(of: c), f1: f1(of: c)),
                             support(of: c)))
        }
        lines.append("")
        lines.append(pad("accuracy", nameWidth) + pad("", 22) + pad(String(format: "%.3f", accuracy), 11) + pad("\(total)", 10))
        lines.append(row("macro avg", scores(average: .macro), total))
        lines.append(row("weighted avg", scores(average: .weighted), total))
        return lines.joined(separator: "\n")
    }

    /// The matrix as a heat map: each cell shaded by its count as a fraction of its row (the class's
    /// recall on the diagonal), labelled with the count.
    public func heatMap(title: String? = "confusion matrix") -> HeatMap {
        let fractions = counts.map { row in
            let n = row.reduce(0, +)
            return row.map { ratio($0, n) }
        }
        return HeatMap(values: fractions, labels: counts.map { $0.map(String.init) }, rowNames: classNames,
                       columnNames: classNames, title: title, xLabel: "predicted", yLabel: "true", range: 0...1)
    }
}

/// `a / b`, or 0 when `b` is 0 (scikit-learn's `zero_division=0`).
func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

private func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: Swift.max(width - s.count, 0)) + s }
