import Foundation
import Testing
@testable import Optim

/// An optimizer with two groups whose base learning rates are 0.1 and 0.02.
func twoGroupOptimizer() -> SGD {
    SGD(groups: [ParameterGroup(parameters: [startParameter()]),
                 ParameterGroup(parameters: [startParameter()], learningRate: 0.02)], learningRate: 0.1)
}

/// Steps `schedule` through `epochs` epochs and expects the rates `closedForm(base, epoch)` at each.
func expectSchedule(_ schedule: LearningRateScheduler, epochs: Int, _ closedForm: (Double, Int) -> Double,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    for epoch in 0...epochs {
        if epoch > 0 { schedule.step() }
        #expect(schedule.epoch == epoch, sourceLocation: sourceLocation)
        let expected = [0.1, 0.02].map { closedForm($0, epoch) }
        let actual = schedule.optimizer.learningRates
        for (a, e) in zip(actual, expected) {
            #expect(Swift.abs(a - e) <= 1e-15, "epoch \(epoch): \(actual) vs \(expected)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct ScheduleTests {
    @Test func stepLR() {
        let schedule = StepLR(twoGroupOptimizer(), stepSize: 3, gamma: 0.5)
        expectSchedule(schedule, epochs: 10) { base, e in base * pow(0.5, Double(e / 3)) }
        #expect(StepLR(twoGroupOptimizer(), stepSize: 1).gamma == 0.1)
    }

    @Test func multiStepLR() {
        let schedule = MultiStepLR(twoGroupOptimizer(), milestones: [5, 2, 8, 8], gamma: 0.3)
        expectSchedule(schedule, epochs: 10) { base, e in
            let decays = e >= 8 ? 4 : e >= 5 ? 2 : e >= 2 ? 1 : 0
            return base * pow(0.3, Double(decays))
        }
    }

    @Test func exponentialLR() {
        expectSchedule(ExponentialLR(twoGroupOptimizer(), gamma: 0.9), epochs: 10) { base, e in base * pow(0.9, Double(e)) }
    }

    @Test func cosineAnnealing() {
        let schedule = CosineAnnealingLR(twoGroupOptimizer(), period: 10, minimum: 0.001)
        expectSchedule(schedule, epochs: 15) { base, e in
            0.001 + (base - 0.001) * (1 + cos(Double.pi * Double(e) / 10)) / 2
        }
        #expect(Swift.abs(schedule.optimizer.learningRates[0] - (0.001 + 0.099 * (1 + cos(1.5 * Double.pi)) / 2)) < 1e-15)
    }

    @Test func linearWarmupThenConstant() {
        expectSchedule(LinearWarmup(twoGroupOptimizer()), epochs: 9) { base, e in
            base * (1.0 / 3 + (2.0 / 3) * Double(min(e, 5)) / 5)
        }
        expectSchedule(LinearWarmup(twoGroupOptimizer(), startFactor: 0.1, endFactor: 0.5, totalEpochs: 4), epochs: 7) {
            base, e in base * (0.1 + 0.4 * Double(min(e, 4)) / 4)
        }
    }

    @Test func linearWarmupHandsOver() {
        let optimizer = twoGroupOptimizer()
        let cosine = CosineAnnealingLR(optimizer, period: 6)
        let schedule = LinearWarmup(optimizer, startFactor: 0.25, totalEpochs: 4, then: cosine)
        expectSchedule(schedule, epochs: 12) { base, e in
            e < 4 ? base * (0.25 + 0.75 * Double(e) / 4) : base * (1 + cos(Double.pi * Double(e - 4) / 6)) / 2
        }
        #expect(cosine.epoch == 8)
    }

    @Test func reduceOnPlateauMinRelative() {
        let optimizer = SGD([startParameter()], learningRate: 1)
        let schedule = ReduceLROnPlateau(optimizer, factor: 0.5, patience: 2, threshold: 0.1, cooldown: 1,
                                         minLearningRate: 0.2)
        let metrics: [Double] = [10, 9, 9.5, 9.2, 8.95, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]
        // 9 is not below 10·(1 − 0.1); after three bad epochs the rate halves; cool-down then hides
        // one bad epoch; the floor 0.2 stops the last reductions.
        let expected: [Double] = [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]
        var actual: [Double] = []
        for metric in metrics {
            schedule.step(metric: metric)
            actual.append(optimizer.learningRate)
        }
        #expect(actual == expected)
        #expect(schedule.best == 8 && schedule.epoch == 16)
    }

    @Test func reduceOnPlateauMaxAbsolute() {
        let optimizer = twoGroupOptimizer()
        let schedule = ReduceLROnPlateau(optimizer, mode: .max, factor: 0.1, patience: 0, threshold: 0.5,
                                         thresholdMode: .absolute)
        var actual: [[Double]] = []
        for metric in [1.0, 1.4, 1.6, 2.2] {
            schedule.step(metric: metric)
            actual.append(optimizer.learningRates)
        }
        #expect(actual.map { $0.map { ($0 * 1e6).rounded() / 1e6 } } ==
                [[0.1, 0.02], [0.01, 0.002], [0.01, 0.002], [0.01, 0.002]])
        #expect(schedule.best == 2.2)
    }

    @Test func reduceOnPlateauDefaults() {
        let schedule = ReduceLROnPlateau(twoGroupOptimizer())
        #expect(schedule.mode == .min && schedule.factor == 0.1 && schedule.patience == 10)
        #expect(schedule.threshold == 1e-4 && schedule.thresholdMode == .relative && schedule.cooldown == 0)
        #expect(schedule.minLearningRate == 0 && schedule.eps == 1e-8 && schedule.best == .infinity)
    }
}
