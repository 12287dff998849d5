import AutoGrad
import Data
import Foundation
import Optim
import Testing
@testable import example_gp

@Suite struct GPExampleTests {
    private let truth = GPHyperparameters(lengthScale: 0.8, signalVariance: 1.5, noiseVariance: 0.04)

    @Test func dataAreDeterministicForASeed() throws {
        let a = try GPData.generate(truth: truth, trainCount: 20, testCount: 30, seed: 5)
        let b = try GPData.generate(truth: truth, trainCount: 20, testCount: 30, seed: 5)
        let c = try GPData.generate(truth: truth, trainCount: 20, testCount: 30, seed: 6)
        #expect(a.trainY == b.trainY && a.testY == b.testY && a.trainY != c.trainY)
        #expect(a.trainX.count == 20 && a.testX.count == 30 && a.trainX == a.trainX.sorted())
    }

    @Test func marginalLikelihoodGradientMatchesFiniteDifferences() throws {
        let data = try GPData.generate(truth: truth, trainCount: 8, testCount: 4, seed: 1)
        try gradcheck({ logs in
            let model = GPModel(logLengthScale: logs[0], logSignalVariance: logs[1], logNoiseVariance: logs[2])
            return try! model.negativeLogMarginalLikelihood(data)
        }, inputs: [Tensor(-0.1), Tensor(0.2), Tensor(-2.0)])
    }

    @Test func fittingLowersTheLossAndPredictsWell() throws {
        let data = try GPData.generate(truth: truth, trainCount: 40, testCount: 50, seed: 0)
        let fit = try fitGP(data, initial: GPHyperparameters(lengthScale: 1, signalVariance: 1, noiseVariance: 0.1),
                            steps: 80, learningRate: 0.05, log: { _ in })
        #expect(fit.losses.last! < fit.losses.first! - 0.1)
        // The noise level is learned within a factor of two; the posterior mean beats the noise level.
        #expect(fit.hyperparameters.noiseVariance > truth.noiseVariance / 2 && fit.hyperparameters.noiseVariance < truth.noiseVariance * 2)
        #expect(fit.testRMSE < truth.noiseVariance.squareRoot())
        #expect(fit.std.allSatisfy { $0 >= 0 && $0.isFinite })
        let image = posteriorPlot(data, fit).render()
        #expect(image.width == 900 && image.height == 560)
    }

    @Test func aDivergingFitThrowsInsteadOfReturningNaN() throws {
        let data = try GPData.generate(truth: truth, trainCount: 20, testCount: 10, seed: 0)
        #expect {
            _ = try fitGP(data, initial: GPHyperparameters(lengthScale: 1, signalVariance: 1, noiseVariance: 0.1),
                          steps: 10, learningRate: 1e30, log: { _ in })
        } throws: { error in
            // exp(±1e30) makes the covariance infinite: Cholesky refuses it, or the loss check stops the fit.
            error is LinearAlgebraError || error is NonFiniteError
        }
    }
}
