import AutoGrad
import Testing

// Every spelling from before the naming convention (Sources/AutoGrad/Support/DeprecatedNames.swift) still compiles
// and gives what its new name gives. The old calls sit in a deprecated method, so they warn nobody, reached through a
// protocol whose requirement is not deprecated, so the test calling it is not deprecated either.

private protocol Spellings {
    func results(_ x: Tensor, _ v: Variable, _ indices: TensorIndices) -> [Tensor]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results(_ x: Tensor, _ v: Variable, _ indices: TensorIndices) -> [Tensor] {
        [x.gathered(alongAxis: 1, indices: indices),
         x.gathered(alongAxis: 1, indices: indices).scatteredAdd(into: x.shape, alongAxis: 1, indices: indices),
         x.indexSelected(alongAxis: 0, indices: [1, 1]),
         x.indexSelected(alongAxis: 0, indices: [1, 1]).indexAdded(into: x.shape, alongAxis: 0, indices: [1, 1]),
         Tensor(x.argmax(alongAxis: 1).map(Double.init)),
         Tensor(x.argmin(alongAxis: 0).map(Double.init)),
         v.gathered(alongAxis: 1, indices: indices).value,
         v.indexSelected(alongAxis: 0, indices: [1, 0]).value,
         v.indexSelected(alongAxis: 0, indices: [1, 0]).indexAdded(into: x.shape, alongAxis: 0, indices: [1, 0]).value,
         Variable(x.reshaped([2, 1, 3])).flattened(from: 1).value,
         Tensor(Tensor.multinomial(x.abs(), numSamples: 2, generator: RandomGenerator(seed: 5)))]
    }
}

private struct New: Spellings {
    func results(_ x: Tensor, _ v: Variable, _ indices: TensorIndices) -> [Tensor] {
        [x.gathered(axis: 1, indices: indices),
         x.gathered(axis: 1, indices: indices).scatteredAdd(into: x.shape, axis: 1, indices: indices),
         x.indexSelected(axis: 0, indices: [1, 1]),
         x.indexSelected(axis: 0, indices: [1, 1]).indexAdded(into: x.shape, axis: 0, indices: [1, 1]),
         Tensor(x.argmax(axis: 1).map(Double.init)),
         Tensor(x.argmin(axis: 0).map(Double.init)),
         v.gathered(axis: 1, indices: indices).value,
         v.indexSelected(axis: 0, indices: [1, 0]).value,
         v.indexSelected(axis: 0, indices: [1, 0]).indexAdded(into: x.shape, axis: 0, indices: [1, 0]).value,
         Variable(x.reshaped([2, 1, 3])).flattened(startAxis: 1).value,
         Tensor(Tensor.multinomial(x.abs(), sampleCount: 2, generator: RandomGenerator(seed: 5)))]
    }
}

@Test func deprecatedSpellingsGiveWhatTheirNewNamesGive() {
    let x = Tensor(shape: [2, 3], scalars: [3.0, 1, 2, -1, 5, 4])
    let indices = TensorIndices(shape: [2, 2], values: [2, 0, 1, 1])
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results(x, Variable(x), indices) }
    #expect(results[0].count == 11)
    for (old, new) in zip(results[0], results[1]) {
        #expect(old.shape == new.shape && old == new)
    }
}
