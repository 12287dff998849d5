import Data
import Testing

// Every spelling from before the naming convention (Sources/Data/Transforms/DeprecatedNames.swift) still compiles
// and gives what its new name gives; the old calls sit in a deprecated method reached through a protocol, as in
// AutoGradTests' DeprecatedNameTests, so that they warn nobody.

private protocol Spellings {
    func results() -> [Tensor]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results() -> [Tensor] {
        [Transform.oneHot(classes: 4)(2), Data.oneHot([1, 0, 2], classes: 3, dtype: .float64)]
    }
}

private struct New: Spellings {
    func results() -> [Tensor] {
        [Transform.oneHot(classCount: 4)(2), Data.oneHot([1, 0, 2], classCount: 3, dtype: .float64)]
    }
}

@Test func deprecatedSpellingsGiveWhatTheirNewNamesGive() {
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results() }
    #expect(results[0].count == 2 && results[0] == results[1])
}
