import Foundation
import Testing
@testable import ExampleSupport

@Suite struct ExampleSupportTests {
    @Test func confusionMatrixCountsAndAccuracy() {
        var matrix = ConfusionMatrix(classNames: ["a", "b", "c"])
        matrix.add(truth: [0, 0, 1, 2, 2, 2], predicted: [0, 1, 1, 2, 2, 0])
        #expect(matrix.counts == [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
        #expect(Swift.abs(matrix.accuracy - 4.0 / 6.0) < 1e-12)
        let lines = matrix.table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[3].hasSuffix("0.667"))
    }

    @Test func movingAverageUsesTheAvailableWindow() {
        #expect(movingAverage([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
        #expect(movingAverage([], window: 3) == [])
    }
}
