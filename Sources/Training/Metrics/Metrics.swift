/// Evaluation metrics over whole sets of predictions, with scikit-learn's definitions (and torchmetrics'
/// names): classification accuracy, precision, recall and F1, ROC-AUC, and the regression errors MSE,
/// MAE and R².
///
/// Each takes plain arrays, so results from any model or batch loop fit: class indices from
/// `Tensor.argmax(axis:)`, scores and values from `Tensor.doubles`.
///
/// ```swift
/// let predicted = logits.argmax(axis: 1)
/// let accuracy = Metrics.accuracy(predicted: predicted, truth: labels)
/// let f1 = Metrics.precisionRecallF1(predicted: predicted, truth: labels, classCount: 10, average: .macro).f1
/// let r2 = Metrics.r2Score(predicted: fit.doubles, truth: targets.doubles)
/// ```
public enum Metrics {
    /// The fraction of predictions equal to the truth (0 for no samples).
    ///
    /// - Precondition: as many predictions as labels.
    public static func accuracy(predicted: [Int], truth: [Int]) -> Double {
        checkCounts("accuracy", predicted.count, truth.count)
        return ratio(zip(predicted, truth).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }, truth.count)
    }

    /// Precision, recall and F1 over classes `0..<classCount`, averaged as `average` says
    /// (scikit-learn's `precision_recall_fscore_support(labels=range(classCount))`).
    ///
    /// - Precondition: as many predictions as labels, each in `0..<classCount`.
    public static func precisionRecallF1(predicted: [Int], truth: [Int], classCount: Int,
                                         average: ClassificationAverage) -> ClassificationScores {
        var confusion = ConfusionMatrix(classCount: classCount)
        confusion.add(truth: truth, predicted: predicted)
        return confusion.scores(average: average)
    }

    /// The area under the ROC curve of a binary classifier: the probability that a random positive
    /// scores higher than a random negative, ties counting one half (scikit-learn's `roc_auc_score`).
    ///
    /// - Parameters:
    ///   - scores: a score per sample, higher meaning more likely positive (a probability or a logit).
    ///   - truth: whether each sample is positive.
    /// - Returns: the AUC in 0...1, or NaN when `truth` holds only one class (the curve is undefined).
    /// - Precondition: as many scores as labels; no NaN score.
    public static func rocAUC(scores: [Double], truth: [Bool]) -> Double {
        checkCounts("rocAUC", scores.count, truth.count)
        precondition(!scores.contains(where: \.isNaN), "Metrics.rocAUC: a score is NaN")
        let positives = truth.filter { $0 }.count, negatives = truth.count - positives
        guard positives > 0 && negatives > 0 else { return .nan }
        // Mann–Whitney U: the sum of the positives' ranks, tied scores sharing their mean rank.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let meanRank = Double(start + end) / 2 + 1
            for k in start...end where truth[order[k]] { positiveRankSum += meanRank }
            start = end + 1
        }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// The mean of the squared errors, mean((ŷ − y)²).
    ///
    /// - Precondition: as many predictions as targets, at least one.
    public static func meanSquaredError(predicted: [Double], truth: [Double]) -> Double {
        checkRegression("meanSquaredError", predicted, truth)
        return zip(predicted, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(truth.count)
    }

    /// The mean of the absolute errors, mean(|ŷ − y|).
    ///
    /// - Precondition: as many predictions as targets, at least one.
    public static func meanAbsoluteError(predicted: [Double], truth: [Double]) -> Double {
        checkRegression("meanAbsoluteError", predicted, truth)
        return zip(predicted, truth).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / Double(truth.count)
    }

    /// The coefficient of determination, 1 − Σ(ŷ − y)² / Σ(y − ȳ)²: 1 for a perfect fit, 0 for
    /// predicting the mean, negative for worse (scikit-learn's `r2_score`).
    ///
    /// Constant targets make the ratio undefined; as scikit-learn does, the score is then 1 for a
    /// perfect fit and 0 otherwise.
    ///
    /// - Precondition: as many predictions as targets, at least one.
    public static func r2Score(predicted: [Double], truth: [Double]) -> Double {
        checkRegression("r2Score", predicted, truth)
        let mean = truth.reduce(0, +) / Double(truth.count)
        let residual = zip(predicted, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let spread = truth.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard spread > 0 else { return residual == 0 ? 1 : 0 }
        return 1 - residual / spread
    }

    private static func checkCounts(_ name: String, _ predicted: Int, _ truth: Int) {
        precondition(predicted == truth, "Metrics.\(name): \(predicted) predictions for \(truth) labels")
    }

    private static func checkRegression(_ name: String, _ predicted: [Double], _ truth: [Double]) {
        checkCounts(name, predicted.count, truth.count)
        precondition(!truth.isEmpty, "Metrics.\(name): no samples")
    }
}
