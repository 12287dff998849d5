import Data
import Foundation
import Testing
import Training
@testable import example_regression

@Suite struct RegressionExampleTests {
    @Test func standardizedFeaturesHaveZeroMeanAndUnitVarianceOnTheTrainingSet() {
        let xs = [-2.0, -0.5, 0.25, 1, 2.5]
        let standardize = standardizer(xs.map { polynomialFeatures($0, degree: 3) })
        let columns = (0..<3).map { j in xs.map { standardize(polynomialFeatures($0, degree: 3)).doubles[j] } }
        for column in columns {
            let mean = column.reduce(0, +) / 5
            #expect(abs(mean) < 1e-12)
            #expect(abs(column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5 - 1) < 1e-9)
        }
    }

    @Test func aCubicFitsTheCubicAndALineDoesNot() throws {
        let data = RegressionData.generate(count: 200, noise: 0.5, seed: 1)
        let parts = split(data, fractions: [0.6, 0.2, 0.2], seed: 1)
        #expect(parts.map(\.x.count) == [120, 40, 40])
        #expect(Set(parts.flatMap(\.x)) == Set(data.x))
        let configuration = RegressionConfiguration(epochs: 150, patience: 10, seed: 1)
        let line = try fitRegression(degree: 1, train: parts[0], validation: parts[1], configuration: configuration)
        let cubic = try fitRegression(degree: 3, train: parts[0], validation: parts[1], configuration: configuration)
        let r2 = { (fit: RegressionFit) in Metrics.r2Score(predicted: fit.predict(parts[2].x), truth: parts[2].y) }
        // Noise of sd 0.5 on a function whose spread is about 2.5: a cubic explains nearly everything.
        #expect(r2(cubic) > 0.95 && r2(line) < r2(cubic) - 0.1)
        let mse = Metrics.meanSquaredError(predicted: cubic.predict(parts[2].x), truth: parts[2].y)
        #expect(mse < 2 * 0.25)
        // Early stopping kept the best validation epoch's weights.
        #expect(cubic.validationLoss.min()! == cubic.validationLoss[cubic.bestEpoch - 1])
        #expect(abs(Metrics.meanSquaredError(predicted: cubic.predict(parts[1].x), truth: parts[1].y)
                    - cubic.validationLoss[cubic.bestEpoch - 1]) < 1e-12)
    }

    @Test func theProgramReportsTestScoresAndWritesItsPlots() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("regression-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try runExampleBinary("example-regression", ["--samples", "200", "--epochs", "60", "--output-dir", output.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("test R2") && run.output.contains("120 train, 40 validation, 40 test"))
        for file in ["fit.png", "residuals.png", "residual-histogram.png"] {
            let png = try PNGImage(contentsOf: output.appendingPathComponent(file).path)
            #expect(png.width == 900 && png.height == 560)
        }
    }

    @Test func badOptionsExitWithAMessage() throws {
        let run = try runExampleBinary("example-regression", ["--degrees", "1,x"])
        #expect(run.status != 0 && run.errors.contains("--degrees"))
    }
}
