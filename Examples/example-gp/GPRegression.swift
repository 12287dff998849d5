import AutoGrad
import Data
import Foundation
import Optim

/// Kernel hyper-parameters of a Gaussian process with a squared-exponential kernel
/// `k(x, x') = σ_f²·exp(−(x − x')² / 2ℓ²)` and Gaussian observation noise of variance `σ_n²`.
struct GPHyperparameters: Equatable {
    var lengthScale: Double
    var signalVariance: Double
    var noiseVariance: Double
}

/// One-dimensional regression data: training inputs and noisy targets, test inputs and noise-free targets.
struct GPData {
    var trainX: [Double], trainY: [Double]
    var testX: [Double], testY: [Double]

    /// Draws a function from the GP prior with `truth` at the training and test inputs (jointly,
    /// through the Cholesky factor of the prior covariance), then adds noise of variance
    /// `truth.noiseVariance` to the training targets. Training inputs are uniform in `[−3, 3]`; test
    /// inputs a regular grid over `[−3.5, 3.5]`. Deterministic for a seed.
    static func generate(truth: GPHyperparameters, trainCount: Int, testCount: Int, seed: UInt64) throws -> GPData {
        let generator = RandomGenerator(seed: seed)
        let trainX = Tensor.uniform([trainCount], low: -3, high: 3, dtype: .float64, generator: generator).doubles.sorted()
        let testX = Tensor.linspace(-3.5, 3.5, count: testCount, dtype: .float64).doubles
        let all = Tensor(trainX + testX)
        let prior = kernelMatrix(all, all, truth) + Tensor.eye(all.count, dtype: .float64) * 1e-8
        let f = Tensor.matmul(try prior.cholesky(), Tensor.randn([all.count], dtype: .float64, generator: generator)).doubles
        let noise = Tensor.randn([trainCount], dtype: .float64, generator: generator).doubles
        return GPData(trainX: trainX, trainY: (0..<trainCount).map { f[$0] + truth.noiseVariance.squareRoot() * noise[$0] },
                      testX: testX, testY: Array(f[trainCount...]))
    }
}

/// `k(a, b)` for the squared-exponential kernel, `[a.count, b.count]`.
func kernelMatrix(_ a: Tensor, _ b: Tensor, _ h: GPHyperparameters) -> Tensor {
    let d = a.unsqueezed(axis: 1) - b.unsqueezed(axis: 0)
    return (d.squared() * (-0.5 / (h.lengthScale * h.lengthScale))).exp() * h.signalVariance
}

/// The hyper-parameters as trainable logarithms (the optimiser works in log space, so they stay positive).
struct GPModel {
    let logLengthScale: Variable, logSignalVariance: Variable, logNoiseVariance: Variable

    init(logLengthScale: Variable, logSignalVariance: Variable, logNoiseVariance: Variable) {
        (self.logLengthScale, self.logSignalVariance, self.logNoiseVariance) = (logLengthScale, logSignalVariance, logNoiseVariance)
    }

    init(_ initial: GPHyperparameters) {
        logLengthScale = Variable(Tensor(Foundation.log(initial.lengthScale)), requiresGrad: true)
        logSignalVariance = Variable(Tensor(Foundation.log(initial.signalVariance)), requiresGrad: true)
        logNoiseVariance = Variable(Tensor(Foundation.log(initial.noiseVariance)), requiresGrad: true)
    }

    func parameters() -> [Variable] { [logLengthScale, logSignalVariance, logNoiseVariance] }

    var hyperparameters: GPHyperparameters {
        GPHyperparameters(lengthScale: Foundation.exp(logLengthScale.value.item),
                          signalVariance: Foundation.exp(logSignalVariance.value.item),
                          noiseVariance: Foundation.exp(logNoiseVariance.value.item))
    }

    /// `K + σ_n²·I` on the training inputs, differentiable in the log hyper-parameters.
    func covariance(_ x: [Double]) -> Variable {
        let xs = Tensor(x)
        let squaredDistances = Variable((xs.unsqueezed(axis: 1) - xs.unsqueezed(axis: 0)).squared())
        let kernel = logSignalVariance.exp() * (squaredDistances * (-0.5) * (logLengthScale * -2).exp()).exp()
        return kernel + logNoiseVariance.exp() * Variable(Tensor.eye(x.count, dtype: .float64))
    }

    /// The negative log marginal likelihood per training point:
    /// `(½·yᵀ·(K + σ_n²I)⁻¹·y + Σ log Lᵢᵢ + (n/2)·log 2π) / n`, with `L` the Cholesky factor of `K + σ_n²I`.
    func negativeLogMarginalLikelihood(_ data: GPData) throws -> Variable {
        let n = Double(data.trainX.count)
        let l = try covariance(data.trainX).cholesky()
        let y = Variable(Tensor(shape: [data.trainX.count, 1], scalars: data.trainY))
        let alpha = try Variable.choleskySolve(y, l)
        let fit = 0.5 * (y * alpha).sum()
        let logDeterminant = l.diagonal().log().sum()      // ½·log|K| = Σ log Lᵢᵢ
        return (fit + logDeterminant + 0.5 * n * Foundation.log(2 * Double.pi)) / n
    }

    /// The posterior mean and standard deviation of the latent function at `x`.
    func predict(_ data: GPData, at x: [Double]) throws -> (mean: [Double], std: [Double]) {
        try Graph.noGrad {
            let h = hyperparameters
            let l = try covariance(data.trainX).value.cholesky()
            let y = Tensor(shape: [data.trainX.count, 1], scalars: data.trainY)
            let alpha = try Tensor.choleskySolve(y, l)
            let cross = kernelMatrix(Tensor(x), Tensor(data.trainX), h)                       // K(x*, X)
            let mean = Tensor.matmul(cross, alpha).doubles
            let v = try Tensor.solveTriangular(l, cross.transposed(), upper: false)           // L⁻¹·K(X, x*)
            let variance = (v.squared().sum(axes: [0]) * -1 + h.signalVariance).clamped(min: 0).doubles
            return (mean, variance.map { $0.squareRoot() })
        }
    }
}

/// The result of fitting: the learned hyper-parameters, the loss per step and the test RMSE.
struct GPFit {
    var hyperparameters: GPHyperparameters
    var losses: [Double]
    var testRMSE: Double
    var mean: [Double], std: [Double]
}

/// Fits the hyper-parameters by minimising the negative log marginal likelihood with Adam.
///
/// - Throws: a linear-algebra error when the covariance stops being positive definite, or
///   `NonFiniteError` at the first NaN or infinite loss or gradient (a learning rate far too high).
func fitGP(_ data: GPData, initial: GPHyperparameters, steps: Int, learningRate: Double,
           log: (String) -> Void = { print($0) }) throws -> GPFit {
    let model = GPModel(initial)
    let optimizer = Adam(model.parameters(), learningRate: learningRate)
    var losses: [Double] = []
    for step in 1...steps {
        optimizer.zeroGrad()
        let loss = try model.negativeLogMarginalLikelihood(data)
        try NonFiniteCheck.loss(loss, step: step)
        loss.backward()
        try NonFiniteCheck.gradients([(name: "log_length_scale", variable: model.logLengthScale),
                                      (name: "log_signal_variance", variable: model.logSignalVariance),
                                      (name: "log_noise_variance", variable: model.logNoiseVariance)], step: step)
        optimizer.step()
        losses.append(loss.value.item)
        if step == 1 || step % Swift.max(steps / 10, 1) == 0 || step == steps {
            let h = model.hyperparameters
            log(String(format: "step %4d  nll/n %.4f  length %.3f  signal var %.3f  noise var %.4f",
                       step, loss.value.item, h.lengthScale, h.signalVariance, h.noiseVariance))
        }
    }
    let (mean, std) = try model.predict(data, at: data.testX)
    let squaredError = zip(mean, data.testY).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    return GPFit(hyperparameters: model.hyperparameters, losses: losses,
                 testRMSE: (squaredError / Double(data.testY.count)).squareRoot(), mean: mean, std: std)
}

/// The posterior mean, the ±2σ band (as two lines), the true function and the training points on one chart.
func posteriorPlot(_ data: GPData, _ fit: GPFit) -> Plot {
    var plot = Plot(title: "GP posterior (mean +- 2 sd)", xLabel: "x", yLabel: "y", width: 900, height: 560, legend: .summary)
    plot.add("posterior mean", x: data.testX, y: fit.mean, color: RGB(31, 119, 180))
    plot.add("mean + 2 sd", x: data.testX, y: zip(fit.mean, fit.std).map { $0 + 2 * $1 }, color: RGB(158, 202, 225))
    plot.add("mean - 2 sd", x: data.testX, y: zip(fit.mean, fit.std).map { $0 - 2 * $1 }, color: RGB(158, 202, 225))
    plot.add("true function", x: data.testX, y: data.testY, color: RGB(120, 120, 120))
    plot.scatter("training points", x: data.trainX, y: data.trainY, color: RGB(214, 39, 40))
    return plot
}
