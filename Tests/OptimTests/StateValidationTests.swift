import Foundation
import Testing
@testable import Optim

/// A loaded state dictionary must not be able to turn parameters into NaN: non-finite or out-of-range
/// hyper-parameters, non-finite state and negative second moments are rejected with the key named.
@Suite struct StateValidationTests {
    /// Loads `dictionary` with `key` set to `value` and expects an invalid-value error for `errorKey`
    /// whose description mentions every fragment; the optimizer must be unchanged afterwards.
    private func expectRejected(_ optimizer: any Optimizer, _ dictionary: [String: Tensor], _ key: String, _ value: Tensor,
                                errorKey: String? = nil, mentions fragments: [String] = [],
                                sourceLocation: SourceLocation = #_sourceLocation) {
        var dict = dictionary
        dict[key] = value
        let before = optimizer.stateDict()
        do {
            try optimizer.loadStateDict(dict)
            Issue.record("\(key) = \(value.doubles) was accepted", sourceLocation: sourceLocation)
        } catch let error as OptimizerStateError {
            guard case .invalidValue(let found, _) = error else {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(found == (errorKey ?? key), sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.description.contains(fragment), "\"\(error)\" lacks \"\(fragment)\"",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        #expect(optimizer.stateDict() == before, "a failed load changed the optimizer", sourceLocation: sourceLocation)
    }

    @Test(arguments: factories.indices)
    func nonFiniteLearningRateIsRejected(_ index: Int) {
        let p = startParameter(), q = startParameter()
        let optimizer = factories[index].1(p, q)
        _ = stepBoth(optimizer, p, q, steps: 2)
        let dict = optimizer.stateDict()
        for value in [Double.infinity, -.infinity, .nan, -1] {
            expectRejected(optimizer, dict, "param_groups.1.lr", Tensor(value), mentions: ["param_groups.1.lr", "\(value)"])
        }
        expectRejected(optimizer, dict, "param_groups.0.weight_decay", Tensor(Double.infinity), mentions: ["inf"])
    }

    @Test func outOfRangeHyperParametersAreRejected() {
        let (adam, _, _) = steppedAdam()
        let dict = adam.stateDict()
        expectRejected(adam, dict, "param_groups.0.betas", Tensor([0.9, 1.0]), mentions: ["[0, 1)"])
        expectRejected(adam, dict, "param_groups.0.betas", Tensor([Double.nan, 0.999]), mentions: ["nan"])
        expectRejected(adam, dict, "param_groups.0.eps", Tensor(0.0), mentions: ["> 0"])
        expectRejected(adam, dict, "param_groups.0.eps", Tensor(Double.infinity))

        let p = startParameter(), q = startParameter()
        let sgd = factories[0].1(p, q)
        _ = stepBoth(sgd, p, q, steps: 2)
        expectRejected(sgd, sgd.stateDict(), "param_groups.0.momentum", Tensor(Double.infinity))
        let rms = factories[3].1(p, q)
        _ = stepBoth(rms, p, q, steps: 2)
        expectRejected(rms, rms.stateDict(), "param_groups.0.alpha", Tensor(1.5), mentions: ["[0, 1]"])
        let adagrad = factories[4].1(p, q)
        _ = stepBoth(adagrad, p, q, steps: 2)
        expectRejected(adagrad, adagrad.stateDict(), "param_groups.0.lr_decay", Tensor(Double.nan))
        expectRejected(adagrad, adagrad.stateDict(), "param_groups.0.initial_accumulator_value", Tensor(-1.0))
    }

    @Test func negativeSecondMomentsAreRejected() {
        let (adam, _, _) = steppedAdam()
        let dict = adam.stateDict()
        expectRejected(adam, dict, "state.1.exp_avg_sq", Tensor([0.5, -1e-3]),
                       mentions: ["state.1.exp_avg_sq", "element 1", "-0.001", "negative"])
        // A negative first moment is a legitimate state.
        var fine = dict
        fine["state.0.exp_avg"] = Tensor([-1.0, -2.0, -3.0])
        #expect(throws: Never.self) { try adam.loadStateDict(fine) }

        let p = startParameter(), q = startParameter()
        let rms = factories[3].1(p, q)
        _ = stepBoth(rms, p, q, steps: 2)
        expectRejected(rms, rms.stateDict(), "state.0.square_avg", Tensor([1.0, -1.0, 1.0]), mentions: ["negative"])
        let adagrad = factories[4].1(p, q)
        _ = stepBoth(adagrad, p, q, steps: 2)
        expectRejected(adagrad, adagrad.stateDict(), "state.1.sum", Tensor([1.0, 1.0, -2.0]), mentions: ["negative"])
    }

    @Test func nonFiniteStateIsRejected() {
        let p = startParameter(), q = startParameter()
        let sgd = factories[0].1(p, q)
        _ = stepBoth(sgd, p, q, steps: 2)
        expectRejected(sgd, sgd.stateDict(), "state.0.momentum_buffer", Tensor([0.1, Double.nan, 0.3]),
                       mentions: ["state.0.momentum_buffer", "element 1", "nan", "finite"])

        let (adam, _, _) = steppedAdam()
        expectRejected(adam, adam.stateDict(), "state.0.exp_avg", Tensor([0, 0, Double.infinity]), mentions: ["element 2"])
        expectRejected(adam, adam.stateDict(), "state.0.step", Tensor(Double.nan))
        expectRejected(adam, adam.stateDict(), "state.0.step", Tensor(Double.infinity))
    }

    @Test func stateThatOverflowsTheParameterDtypeIsRejected() {
        // 1e300 is finite in the stored float64 tensor, infinite once converted to a float32 parameter's dtype.
        let p = startParameter(dtype: .float32), q = startParameter(dtype: .float32)
        let sgd = factories[0].1(p, q)
        _ = stepBoth(sgd, p, q, steps: 2)
        expectRejected(sgd, sgd.stateDict(), "state.1.momentum_buffer", Tensor([1e300, 0, 0]), mentions: ["float32"])
    }

    @Test func wrongStateShapeIsRejected() {
        let p = startParameter(), q = startParameter()
        let sgd = factories[0].1(p, q)
        _ = stepBoth(sgd, p, q, steps: 2)
        var dict = sgd.stateDict()
        dict["state.1.momentum_buffer"] = Tensor([1.0, 2.0])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.1.momentum_buffer", expected: [3], found: [2])) {
            try sgd.loadStateDict(dict)
        }
    }

    @Test func validCheckpointsStillLoad() throws {
        for (name, make) in factories {
            let p = startParameter(), q = startParameter()
            let optimizer = make(p, q)
            _ = stepBoth(optimizer, p, q, steps: 3)
            let saved = optimizer.stateDict()
            try optimizer.loadStateDict(saved)
            #expect(optimizer.stateDict() == saved, "\(name)")
        }
    }

    private func expectTrap(_ result: ExitTest.Result?, mentions fragments: [String],
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        for fragment in fragments {
            #expect(text.contains(fragment), "stderr lacks \"\(fragment)\":\n\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func badHyperParametersTrapNamingTheOptimizerAndValue() async {
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam([Variable(Tensor([1.0]), requiresGrad: true)], learningRate: .infinity)
        }, mentions: ["Adam", "lr = inf"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam([Variable(Tensor([1.0]), requiresGrad: true)], betas: (0.9, 1.0))
        }, mentions: ["Adam", "betas", "[0, 1)"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let sgd = SGD([Variable(Tensor([1.0]), requiresGrad: true)], learningRate: 0.1)
            sgd.learningRate = .nan
        }, mentions: ["SGD", "lr = nan"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = RMSProp([Variable(Tensor([1.0]), requiresGrad: true)], eps: 0)
        }, mentions: ["RMSProp", "eps = 0.0"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adagrad([Variable(Tensor([1.0]), requiresGrad: true)], weightDecay: -.infinity)
        }, mentions: ["Adagrad", "weight_decay = -inf"])
    }
}
