import Optim
import Testing

// The property spelling `optimizer.parameters`, from before the naming convention (Sources/Optim/DeprecatedNames.swift),
// still compiles and lists what `parameters()` lists; the old calls sit in a deprecated method reached through a
// protocol, as in AutoGradTests' DeprecatedNameTests, so that they warn nobody.

private protocol Spellings {
    func results(_ sgd: SGD, _ lbfgs: LBFGS, _ optimizer: any Optimizer) -> [[Variable]]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results(_ sgd: SGD, _ lbfgs: LBFGS, _ optimizer: any Optimizer) -> [[Variable]] {
        [sgd.parameters, lbfgs.parameters, optimizer.parameters]
    }
}

private struct New: Spellings {
    func results(_ sgd: SGD, _ lbfgs: LBFGS, _ optimizer: any Optimizer) -> [[Variable]] {
        [sgd.parameters(), lbfgs.parameters(), optimizer.parameters()]
    }
}

@Test func deprecatedParametersPropertyListsWhatTheMethodLists() {
    let p = Variable(Tensor.zeros([2]), requiresGrad: true), q = Variable(Tensor.zeros([3]), requiresGrad: true)
    let sgd = SGD([p, q], learningRate: 0.1), lbfgs = LBFGS([q, p]), adam = Adam([q], learningRate: 0.1)
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results(sgd, lbfgs, adam).map { $0.map(ObjectIdentifier.init) } }
    #expect(results[0] == results[1])
    #expect(results[1] == [[p, q], [q, p], [q]].map { $0.map(ObjectIdentifier.init) })
}
