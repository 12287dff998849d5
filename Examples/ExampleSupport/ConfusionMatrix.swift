/// Counts of (true class, predicted class) pairs, printed as a table.
public struct ConfusionMatrix {
    /// `counts[truth][prediction]`.
    public private(set) var counts: [[Int]]
    public let classNames: [String]

    /// An empty matrix over the named classes.
    public init(classNames: [String]) {
        self.classNames = classNames
        counts = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    }

    /// Adds one batch of labels and predictions.
    public mutating func add(truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count, "ConfusionMatrix.add: \(truth.count) labels, \(predicted.count) predictions")
        for (t, p) in zip(truth, predicted) { counts[t][p] += 1 }
    }

    /// Fraction of samples on the diagonal.
    public var accuracy: Double {
        let total = counts.joined().reduce(0, +)
        return total == 0 ? 0 : Double(counts.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }

    /// The matrix as text: rows are true classes, columns predictions, with per-class recall.
    public var table: String {
        let names = classNames.map { String($0.prefix(11)) }
        let nameWidth = max(names.map(\.count).max() ?? 0, 5)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(w - s.count, 0)) + s }
        var lines = [pad("true\\pred", nameWidth) + counts.indices.map { pad("\($0)", 6) }.joined() + pad("recall", 8)]
        for (i, row) in counts.enumerated() {
            let total = row.reduce(0, +)
            let recall = total == 0 ? 0 : Double(row[i]) / Double(total)
            lines.append(pad(names[i], nameWidth) + row.map { pad("\($0)", 6) }.joined() + pad(String(format: "%.3f", recall), 8))
        }
        return lines.joined(separator: "\n")
    }
}
