import Testing
@testable import NN

// `embedding` and `Embedding`: lookup, the gradient by scatter-add (repeated tokens sum, the padding row gets
// nothing), second order, the initialisation and the state-dict key.

@Suite struct EmbeddingTests {
    /// A 5×3 table whose entry (i, k) is 10·i + k, so every looked-up value names its row.
    private let table = Tensor(shape: [5, 3], scalars: (0..<15).map { Double($0 / 3 * 10 + $0 % 3) })

    @Test func looksUpRowsInTheIndicesShape() {
        let y = embedding(TensorIndices(shape: [2, 2], values: [4, 0, 1, 4]), Variable(table))
        #expect(y.shape == [2, 2, 3])
        #expect(y.value.doubles == [40, 41, 42, 0, 1, 2, 10, 11, 12, 40, 41, 42])
    }

    @Test func repeatedIndicesSumAndThePaddingRowGetsNoGradient() {
        // Tokens [[1, 3, 1], [0, 1, 4]] with padding 0; output gradient at position p, component k: 100·p + k.
        let indices = TensorIndices(shape: [2, 3], values: [1, 3, 1, 0, 1, 4])
        let g = Tensor(shape: [2, 3, 3], scalars: (0..<18).map { Double($0 / 3 * 100 + $0 % 3) })
        for padding in [0, -5] {
            let w = Variable(table, requiresGrad: true)
            embedding(indices, w, paddingIndex: padding).backward(seed: g)
            // Row 1 is read at positions 0, 2 and 4: 0 + 200 + 400; row 3 at 1; row 4 at 5; row 0 (padding) and 2: none.
            #expect(w.grad!.doubles == [0, 0, 0,
                                        600, 603, 606,
                                        0, 0, 0,
                                        100, 101, 102,
                                        500, 501, 502], "paddingIndex \(padding)")
        }
        // Without padding, row 0 gets position 3's gradient.
        let w = Variable(table, requiresGrad: true)
        embedding(indices, w).backward(seed: g)
        #expect(Array(w.grad!.doubles.prefix(3)) == [300, 301, 302])
    }

    @Test func gradientsMatchFiniteDifferencesToSecondOrder() throws {
        let w = Tensor.randn([6, 4], dtype: .float64, generator: RandomGenerator(seed: 9))
        let indices = TensorIndices(shape: [3, 2], values: [2, 5, 2, 0, 5, 5])
        // Squared so that second derivatives are not zero. With a padding index the first derivative is not the true
        // one on purpose (the padding row is read but gets no gradient; pinned exactly above), so finite differences
        // check it without one; the gradient as a function (second order) is checked with and without.
        _ = try gradcheck({ embedding(indices, $0[0]).squared() }, inputs: [w])
        _ = try gradgradcheck({ embedding(indices, $0[0], paddingIndex: 0).squared() }, inputs: [w])
        _ = try gradgradcheck({ embedding(indices, $0[0]).squared() }, inputs: [w])
    }

    @Test func indicesOutOfRangeAndFractionalValuesTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = Embedding(numEmbeddings: 4, embeddingDim: 2)(TensorIndices([1, 4]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Embedding(numEmbeddings: 4, embeddingDim: 2)(Variable(Tensor([1.5])))
        }
        await #expect(processExitsWith: .failure) {
            _ = Embedding(numEmbeddings: 4, embeddingDim: 2, paddingIndex: 4)
        }
    }

    @Test func layerInitialisesLikePyTorchAndTakesIndicesOrWholeNumbers() {
        let layer = Embedding(numEmbeddings: 400, embeddingDim: 50, paddingIndex: -1, generator: RandomGenerator(seed: 4))
        #expect(layer.paddingIndex == 399)
        #expect(layer.stateDict().keys.sorted() == ["weight"] && layer.weight.shape == [400, 50])
        let w = layer.weight.value.doubles
        #expect(w.suffix(50).allSatisfy { $0 == 0 })
        // N(0, 1) on the other rows: 19,950 draws give a mean within 0.03 and a standard deviation within 0.03 of 1.
        let body = w.prefix(399 * 50), mean = body.reduce(0, +) / Double(body.count)
        let std = (body.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(body.count)).squareRoot()
        #expect(Swift.abs(mean) < 0.03 && Swift.abs(std - 1) < 0.03)
        // A Variable holding whole numbers looks up the same rows as TensorIndices.
        let byIndices = layer(TensorIndices(shape: [2], values: [7, 399]))
        let byValues = layer(Variable(Tensor([7.0, 399])))
        #expect(byIndices.value == byValues.value && byValues.shape == [2, 50])
    }
}
