import Foundation
import Testing
@testable import Training

/// Metrics against values worked out by hand from their definitions (the same cases as scikit-learn's
/// documentation where it has one), and ROC-AUC against a count over every positive–negative pair.
@Suite struct MetricsTests {
    // counts [[1, 1, 0], [0, 1, 0], [1, 0, 2]]: per class precision 1/2, 1/2, 1; recall 1/2, 1, 2/3;
    // F1 1/2, 2/3, 4/5; supports 2, 1, 3.
    let truth = [0, 0, 1, 2, 2, 2], predicted = [0, 1, 1, 2, 2, 0]

    @Test func confusionMatrixCountsAndPerClassScores() {
        var matrix = ConfusionMatrix(classNames: ["a", "b", "c"])
        matrix.add(truth: truth, predicted: predicted)
        #expect(matrix.counts == [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
        #expect(matrix.total == 6 && abs(matrix.accuracy - 4.0 / 6.0) < 1e-12)
        #expect((0..<3).map(matrix.precision(of:)) == [0.5, 0.5, 1])
        #expect(zip((0..<3).map(matrix.recall(of:)), [0.5, 1, 2.0 / 3]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip((0..<3).map(matrix.f1(of:)), [0.5, 2.0 / 3, 0.8]).allSatisfy { abs($0 - $1) < 1e-12 })
        let lines = matrix.table.split(separator: "\n")
        #expect(lines.count == 4 && lines[3].hasSuffix("0.667"))
    }

    @Test func averagesFollowScikitLearn() {
        func close(_ s: ClassificationScores, _ p: Double, _ r: Double, _ f: Double) -> Bool {
            abs(s.precision - p) < 1e-12 && abs(s.recall - r) < 1e-12 && abs(s.f1 - f) < 1e-12
        }
        let scores = { Metrics.precisionRecallF1(predicted: predicted, truth: truth, classCount: 3, average: $0) }
        #expect(close(scores(.macro), 2.0 / 3, 13.0 / 18, 59.0 / 90))
        #expect(close(scores(.weighted), 0.75, 4.0 / 6, 61.0 / 90))
        #expect(close(scores(.micro), 4.0 / 6, 4.0 / 6, 4.0 / 6))
        #expect(Metrics.accuracy(predicted: predicted, truth: truth) == 4.0 / 6)
    }

    @Test func aClassNeverPredictedScoresZeroNotNaN() {
        // Class 2 has support but is never predicted; class 3 neither occurs nor is predicted.
        let s = Metrics.precisionRecallF1(predicted: [0, 1, 1], truth: [0, 1, 2], classCount: 4, average: .macro)
        #expect(abs(s.precision - (1 + 0.5 + 0 + 0) / 4) < 1e-12)
        #expect(abs(s.recall - (1 + 1 + 0 + 0) / 4) < 1e-12)
        #expect(Metrics.accuracy(predicted: [], truth: []) == 0)
    }

    @Test func reportLaysOutEveryClassAndTheAverages() {
        var matrix = ConfusionMatrix(classNames: ["a", "b", "c"])
        matrix.add(truth: truth, predicted: predicted)
        let lines = matrix.report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 8)
        #expect(lines[1].hasSuffix("0.500      0.500      0.500         2"))
        #expect(lines[6].hasPrefix("   macro avg") && lines[6].hasSuffix("0.667      0.722      0.656         6"))
    }

    @Test func rocAUCMatchesPairCounting() {
        // scikit-learn's documented case.
        #expect(Metrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], truth: [false, false, true, true]) == 0.75)
        // A tie between a positive and a negative counts one half: (1 + 0.5 + 1 + 1) / 4.
        #expect(Metrics.rocAUC(scores: [1, 2, 2, 3], truth: [false, true, false, true]) == 0.875)
        #expect(Metrics.rocAUC(scores: [1, 2], truth: [true, true]).isNaN)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let n = Int.random(in: 2...40, using: &generator)
            // Scores on a coarse grid, so ties are common.
            let scores = (0..<n).map { _ in Double(Int.random(in: 0...6, using: &generator)) }
            var truth = (0..<n).map { _ in Bool.random(using: &generator) }
            truth[0] = true; truth[1] = false
            var wins = 0.0, pairs = 0.0
            for i in 0..<n where truth[i] {
                for j in 0..<n where !truth[j] {
                    pairs += 1
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
                }
            }
            #expect(abs(Metrics.rocAUC(scores: scores, truth: truth) - wins / pairs) < 1e-12)
        }
    }

    @Test func regressionErrorsMatchScikitLearnsExamples() {
        let truth = [3, -0.5, 2, 7], predicted = [2.5, 0.0, 2, 8]
        #expect(Metrics.meanSquaredError(predicted: predicted, truth: truth) == 0.375)
        #expect(Metrics.meanAbsoluteError(predicted: predicted, truth: truth) == 0.5)
        #expect(abs(Metrics.r2Score(predicted: predicted, truth: truth) - 0.9486081370449679) < 1e-12)
        // Predicting the mean scores 0; constant targets score 1 when fitted exactly, else 0.
        #expect(abs(Metrics.r2Score(predicted: [2.875, 2.875, 2.875, 2.875], truth: truth)) < 1e-12)
        #expect(Metrics.r2Score(predicted: [1, 1], truth: [1, 1]) == 1)
        #expect(Metrics.r2Score(predicted: [1, 2], truth: [1, 1]) == 0)
    }

    @Test func mismatchedCountsTrapNamingTheMetric() async {
        await #expect(processExitsWith: .failure) {
            _ = Metrics.meanSquaredError(predicted: [1, 2], truth: [1])
        }
        await #expect(processExitsWith: .failure) {
            var matrix = ConfusionMatrix(classCount: 2)
            matrix.add(truth: [2], predicted: [0])
        }
    }
}
