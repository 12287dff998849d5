import NN
import Testing

// Every spelling from before the naming convention (Sources/NN/Support/DeprecatedNames.swift) still compiles and
// gives what its new name gives; the old calls sit in a deprecated method reached through a protocol, as in
// AutoGradTests' DeprecatedNameTests, so that they warn nobody.

private protocol Spellings {
    func results(_ x: Variable) -> [Tensor]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results(_ x: Variable) -> [Tensor] {
        let flatten = Flatten(startDim: 1, endDim: 2)
        return [flatten(x).value, Tensor([Double(flatten.startDim), Double(flatten.endDim)]),
                Flatten(startDim: -2)(x).value,
                sinusoidalPositionalEncoding(positions: 2..<5, dim: 6, dtype: .float64)]
    }
}

private struct New: Spellings {
    func results(_ x: Variable) -> [Tensor] {
        let flatten = Flatten(startAxis: 1, endAxis: 2)
        return [flatten(x).value, Tensor([Double(flatten.startAxis), Double(flatten.endAxis)]),
                Flatten(startAxis: -2)(x).value,
                sinusoidalPositionalEncoding(positions: 2..<5, embeddingDim: 6, dtype: .float64)]
    }
}

@Test func deprecatedSpellingsGiveWhatTheirNewNamesGive() {
    let x = Variable(Tensor.randn([2, 3, 4, 5], generator: RandomGenerator(seed: 1)))
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results(x) }
    #expect(results[0].count == 4)
    for (old, new) in zip(results[0], results[1]) {
        #expect(old == new)
    }
    #expect(Flatten()(x).shape == [2, 60], "Flatten() picks the current initialiser, not the deprecated one")
}
