import AutoGrad
import Data
import Foundation
import NN
import Optim
import Training

/// Noisy samples of y = 0.5x³ − 2x + 1 on x ∈ [−3, 3]: a curve a straight line cannot follow and a cubic can.
struct RegressionData {
    var x: [Double]
    var y: [Double]

    /// The noise-free function.
    static func truth(_ x: Double) -> Double { 0.5 * x * x * x - 2 * x + 1 }

    /// `count` points with Gaussian noise of standard deviation `noise`, the same for a seed.
    static func generate(count: Int, noise: Double, seed: UInt64) -> RegressionData {
        let generator = RandomGenerator(seed: seed)
        let x = Tensor.uniform([count], low: -3, high: 3, dtype: .float64, generator: generator).doubles
        let e = Tensor.randn([count], dtype: .float64, generator: generator).doubles
        return RegressionData(x: x, y: zip(x, e).map { truth($0) + noise * $1 })
    }
}

/// One example: polynomial features of `x` and the target.
typealias Sample = (features: Tensor, target: Tensor)

/// The powers x, x², …, x^degree of one input.
func polynomialFeatures(_ x: Double, degree: Int) -> Tensor {
    Tensor((1...degree).map { Foundation.pow(x, Double($0)) })
}

/// Per-feature mean and standard deviation of the training features (never the validation or test ones,
/// which would leak them into training) as a transform that standardises any sample.
func standardizer(_ features: [Tensor]) -> Transform<Tensor, Tensor> {
    let stacked = Tensor.stack(features)
    let mean = stacked.mean(axes: [0]).doubles
    let std = stacked.variance(axes: [0], correction: 0).doubles.map { Swift.max($0.squareRoot(), 1e-12) }
    return .normalize(mean: mean, std: std)
}

/// What training a model of one degree produced.
struct RegressionFit {
    var degree: Int
    var model: Linear
    var standardize: Transform<Tensor, Tensor>
    /// Training and validation MSE after each epoch.
    var trainLoss: [Double] = []
    var validationLoss: [Double] = []
    /// The epoch whose weights were kept (1-based), the one with the lowest validation MSE.
    var bestEpoch = 0
    /// Whether training stopped before `epochs` because validation stopped improving.
    var stoppedEarly = false

    /// Predictions for raw inputs.
    func predict(_ x: [Double]) -> [Double] {
        guard !x.isEmpty else { return [] }
        let features = Tensor.stack(x.map { standardize(polynomialFeatures($0, degree: degree)) })
        return Graph.noGrad { model(Variable(features)).value.doubles }
    }
}

/// The hyper-parameters of a run.
struct RegressionConfiguration {
    var epochs = 300
    var batchSize = 32
    var learningRate = 0.05
    var momentum = 0.9
    /// Epochs without a validation improvement (by more than 1e-4 relative) before training stops.
    var patience = 20
    var seed: UInt64 = 0
}

/// Fits `y ≈ w·features(x) + b` with SGD on the MSE, keeping the weights of the best validation epoch and
/// stopping once `patience` epochs pass without improvement.
func fitRegression(degree: Int, train: RegressionData, validation: RegressionData,
                   configuration c: RegressionConfiguration) throws -> RegressionFit {
    let raw = train.x.map { polynomialFeatures($0, degree: degree) }
    let standardize = standardizer(raw)
    let samples = zip(raw, train.y).map { (standardize($0), Tensor([$1])) }
    let loader = DataLoader(ArrayDataset(samples), batchSize: c.batchSize, shuffle: true, seed: c.seed) { batch in
        (Tensor.stack(batch.map(\.0)), Tensor.stack(batch.map(\.1)))
    }
    let model = Linear(degree, 1, dtype: .float64, generator: RandomGenerator(seed: c.seed))
    let optimizer = SGD(model.parameters(), learningRate: c.learningRate, momentum: c.momentum)
    var fit = RegressionFit(degree: degree, model: model, standardize: standardize)
    var best = (loss: Double.infinity, state: model.stateDict())
    let progress = ProgressBar(total: c.epochs, label: "degree \(degree)", plainEvery: c.epochs)
    for epoch in 1...c.epochs {
        var sum = 0.0
        for (x, y) in loader {
            let loss = mseLoss(model(Variable(x)), Variable(y))
            try NonFiniteCheck.loss(loss, step: epoch)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            sum += loss.value.item * Double(x.shape[0])
        }
        fit.trainLoss.append(sum / Double(train.x.count))
        let validationLoss = Metrics.meanSquaredError(predicted: fit.predict(validation.x), truth: validation.y)
        fit.validationLoss.append(validationLoss)
        progress.advance(metrics: ["train MSE": fit.trainLoss.last!, "validation MSE": validationLoss])
        if validationLoss < best.loss * (1 - 1e-4) {
            best = (validationLoss, model.stateDict())
            fit.bestEpoch = epoch
        } else if epoch - fit.bestEpoch >= c.patience {
            fit.stoppedEarly = true
            progress.advance(c.epochs - epoch, metrics: ["train MSE": fit.trainLoss.last!, "validation MSE": validationLoss])
            break
        }
    }
    try model.loadStateDict(best.state)
    return fit
}

/// Splits `data` into train, validation and test parts of the given fractions, at random but the same for a seed.
func split(_ data: RegressionData, fractions: [Double], seed: UInt64) -> [RegressionData] {
    randomSplit(ArrayDataset(Array(zip(data.x, data.y))), fractions: fractions, seed: seed).map { part in
        let pairs = (0..<part.count).map { part.element(at: $0) }
        return RegressionData(x: pairs.map(\.0), y: pairs.map(\.1))
    }
}

/// The data with each fit's curve, and the test residuals of each fit against x and as a histogram.
func regressionPlots(train: RegressionData, test: RegressionData, fits: [RegressionFit]) -> (fit: Plot, residuals: Plot) {
    let grid = stride(from: -3.0, through: 3.0, by: 0.02).map { $0 }
    var fitPlot = Plot(title: "data and fitted curves", xLabel: "x", yLabel: "y", width: 900, height: 560)
    fitPlot.scatter("training data", x: train.x, y: train.y, color: RGB(170, 170, 170))
    fitPlot.scatter("test data", x: test.x, y: test.y, color: .black)
    fitPlot.add("true function", x: grid, y: grid.map(RegressionData.truth), color: RGB(44, 160, 44))
    var residualPlot = Plot(title: "test residuals (prediction - truth)", xLabel: "x", yLabel: "residual",
                            width: 900, height: 560)
    for (k, fit) in fits.enumerated() {
        let color = [RGB(31, 119, 180), RGB(214, 39, 40), RGB(148, 103, 189)][k % 3]
        fitPlot.add("degree \(fit.degree) fit", x: grid, y: fit.predict(grid), color: color)
        let residuals = zip(fit.predict(test.x), test.y).map { $0 - $1 }
        residualPlot.scatter("degree \(fit.degree) residual at x", x: test.x, y: residuals, color: color)
    }
    return (fitPlot, residualPlot)
}

/// A histogram of each fit's test residuals.
func residualHistogram(test: RegressionData, fits: [RegressionFit]) -> Plot {
    var plot = Plot(title: "test residuals", xLabel: "prediction - truth", yLabel: "count", width: 900, height: 560)
    let residuals = fits.map { fit in zip(fit.predict(test.x), test.y).map { $0 - $1 } }
    let all = residuals.joined()
    let range = (all.min() ?? -1)...(all.max() ?? 1)
    for (k, (fit, r)) in zip(fits, residuals).enumerated() {
        plot.histogram("degree \(fit.degree)", values: r, bins: 24, range: range,
                       color: [RGB(31, 119, 180), RGB(214, 39, 40), RGB(148, 103, 189)][k % 3])
    }
    return plot
}
