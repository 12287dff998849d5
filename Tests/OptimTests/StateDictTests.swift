import Testing
@testable import Optim

/// Makes an optimizer over two groups: `first` alone, and `second` with overridden learning rate.
typealias OptimizerFactory = (_ first: Variable, _ second: Variable) -> any Optimizer

let factories: [(String, OptimizerFactory)] = [
    ("SGD", { SGD(groups: [ParameterGroup(parameters: [$0]), ParameterGroup(parameters: [$1], learningRate: 0.02)],
                  learningRate: 0.05, momentum: 0.9, nesterov: true) }),
    ("Adam", { Adam(groups: [ParameterGroup(parameters: [$0]), ParameterGroup(parameters: [$1], learningRate: 0.02)],
                    learningRate: 0.1, amsgrad: true) }),
    ("AdamW", { AdamW(groups: [ParameterGroup(parameters: [$0]), ParameterGroup(parameters: [$1], learningRate: 0.02)],
                      learningRate: 0.1, weightDecay: 0.1) }),
    ("RMSProp", { RMSProp(groups: [ParameterGroup(parameters: [$0]), ParameterGroup(parameters: [$1], learningRate: 0.02)],
                          momentum: 0.5, centered: true) }),
    ("Adagrad", { Adagrad(groups: [ParameterGroup(parameters: [$0]), ParameterGroup(parameters: [$1], learningRate: 0.02)],
                          learningRate: 0.3, learningRateDecay: 0.1, initialAccumulatorValue: 0.1) }),
]

/// Steps `optimizer` on the quadratic loss of both parameters and returns their values after each step.
func stepBoth(_ optimizer: any Optimizer, _ p: Variable, _ q: Variable, steps: Int) -> [[Double]] {
    (0..<steps).map { _ in
        optimizer.zeroGrad()
        Quadratic.standard.backward(p)
        Quadratic.standard.backward(q)
        optimizer.step()
        return p.value.doubles + q.value.doubles
    }
}

/// An Adam optimizer after three steps, with its parameters.
func steppedAdam() -> (Adam, Variable, Variable) {
    let p = startParameter(), q = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
    let adam = Adam([p, q], learningRate: 0.1)
    for _ in 0..<3 {
        adam.zeroGrad()
        Quadratic.standard.backward(p)
        (q * q).sum().backward()
        adam.step()
    }
    return (adam, p, q)
}

@Suite struct StateDictTests {
    @Test(arguments: factories.indices)
    func roundTripContinuesTheSameTrajectory(_ index: Int) throws {
        let (name, make) = factories[index]
        for dtype in [DType.float64, .float32] {
            let p = startParameter(dtype: dtype), q = startParameter(dtype: dtype)
            let original = make(p, q)
            _ = stepBoth(original, p, q, steps: 3)
            let saved = original.stateDict()

            let p2 = Variable(p.value, requiresGrad: true), q2 = Variable(q.value, requiresGrad: true)
            let restored = make(p2, q2)
            restored.learningRate = 123       // overwritten by the dictionary
            try restored.loadStateDict(saved)
            #expect(restored.learningRates == original.learningRates, "\(name)")
            #expect(restored.stateDict() == saved, "\(name)")

            let continued = stepBoth(original, p, q, steps: 3)
            let resumed = stepBoth(restored, p2, q2, steps: 3)
            #expect(continued == resumed, "\(name) \(dtype)")
        }
    }

    @Test func keysFollowPyTorchNames() {
        let (adam, _, _) = steppedAdam()
        let dict = adam.stateDict()
        #expect(Set(dict.keys) == [
            "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
            "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq",
            "param_groups.0.lr", "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.weight_decay",
            "param_groups.0.amsgrad", "param_groups.0.params",
        ])
        #expect(dict["state.0.step"]! == Tensor(3.0))
        #expect(dict["state.1.exp_avg"]!.shape == [2])
        #expect(dict["param_groups.0.betas"]!.doubles == [0.9, 0.999])
        #expect(dict["param_groups.0.params"]!.doubles == [0, 1])
        #expect(dict["param_groups.0.lr"]!.item == 0.1)
    }

    @Test func stateBeforeAnyStepIsEmpty() throws {
        let p = startParameter()
        let sgd = SGD([p], momentum: 0.9)
        #expect(sgd.stateDict().keys.allSatisfy { $0.hasPrefix("param_groups.0.") })
        // Loading such a dictionary leaves the first step to create the buffer from the gradient.
        try sgd.loadStateDict(sgd.stateDict())
        expectClose(trajectory(sgd, p, steps: 2), sgdReference(steps: 2, lr: 1e-3, momentum: 0.9))
    }

    @Test func missingKeysThrow() {
        let (adam, _, _) = steppedAdam()
        for key in ["state.1.exp_avg_sq", "state.0.step", "param_groups.0.lr", "param_groups.0.params"] {
            var dict = adam.stateDict()
            dict[key] = nil
            #expect(throws: OptimizerStateError.missingKey(key)) { try adam.loadStateDict(dict) }
        }
    }

    @Test func unexpectedKeysThrow() {
        let (adam, _, _) = steppedAdam()
        for key in ["state.0.max_exp_avg_sq", "state.2.exp_avg", "state.x.step", "param_groups.1.lr", "extra"] {
            var dict = adam.stateDict()
            dict[key] = Tensor(shape: [3], scalars: [0.0, 0, 0])
            #expect(throws: OptimizerStateError.unexpectedKey(key)) { try adam.loadStateDict(dict) }
        }
    }

    @Test func shapeMismatchesThrow() {
        let (adam, _, _) = steppedAdam()
        var dict = adam.stateDict()
        dict["state.0.exp_avg"] = Tensor([1.0, 2.0])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.0.exp_avg", expected: [3], found: [2])) {
            try adam.loadStateDict(dict)
        }
        dict = adam.stateDict()
        dict["param_groups.0.betas"] = Tensor(0.9)
        #expect(throws: OptimizerStateError.shapeMismatch(key: "param_groups.0.betas", expected: [2], found: [])) {
            try adam.loadStateDict(dict)
        }
        dict = adam.stateDict()
        dict["state.1.step"] = Tensor([3.0])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.1.step", expected: [], found: [1])) {
            try adam.loadStateDict(dict)
        }
    }

    @Test func invalidValuesThrow() {
        let (adam, _, _) = steppedAdam()
        let cases: [(String, Tensor, String)] = [
            ("state.0.step", Tensor(-1.0), "state.0.step"),
            ("state.0.step", Tensor(2.5), "state.0.step"),
            ("param_groups.0.amsgrad", Tensor(2.0), "param_groups.0.amsgrad"),
            ("param_groups.0.lr", Tensor(-0.1), "param_groups.0.lr"),
            ("param_groups.0.params", Tensor([1.0, 0.0]), "param_groups.0.params"),
        ]
        for (key, value, errorKey) in cases {
            var dict = adam.stateDict()
            dict[key] = value
            #expect {
                try adam.loadStateDict(dict)
            } throws: { error in
                guard case .invalidValue(let key, _) = error as? OptimizerStateError else { return false }
                return key == errorKey
            }
        }
    }

    @Test func failedLoadChangesNothing() {
        let (adam, p, q) = steppedAdam()
        let before = adam.stateDict()
        var dict = before
        dict["state.0.exp_avg"] = before["state.0.exp_avg"]! * 5
        dict["param_groups.0.lr"] = Tensor(0.7)
        dict["extra"] = Tensor(1.0)
        #expect(throws: OptimizerStateError.unexpectedKey("extra")) { try adam.loadStateDict(dict) }
        #expect(adam.stateDict() == before)
        _ = (p, q)
    }

    @Test func groupStructureMustMatch() {
        let (adam, _, _) = steppedAdam()
        let dict = adam.stateDict()
        let a = startParameter(), b = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        let split = Adam(groups: [ParameterGroup(parameters: [a]), ParameterGroup(parameters: [b])])
        #expect(throws: OptimizerStateError.self) { try split.loadStateDict(dict) }
        let swapped = Adam([b, a])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.0.exp_avg", expected: [2], found: [3])) {
            try swapped.loadStateDict(dict)
        }
    }

    @Test func errorsDescribeTheKey() {
        #expect(OptimizerStateError.missingKey("state.0.step").description.contains("state.0.step"))
        #expect(OptimizerStateError.shapeMismatch(key: "k", expected: [2], found: [3]).description.contains("[3]"))
    }
}
