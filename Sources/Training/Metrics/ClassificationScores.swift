/// How per-class scores combine into one (scikit-learn's `average=`).
public enum ClassificationAverage: Sendable, CaseIterable {
    /// Scores from the totals of true and false positives and negatives over all classes.
    case micro
    /// The unweighted mean of the per-class scores.
    case macro
    /// The mean of the per-class scores weighted by each class's support.
    case weighted
}

/// Precision, recall and F1 of a classifier.
public struct ClassificationScores: Equatable, Sendable {
    /// TP / (TP + FP).
    public var precision: Double
    /// TP / (TP + FN).
    public var recall: Double
    /// 2·precision·recall / (precision + recall) per class.
    public var f1: Double
}
