import Foundation
import Testing
@testable import NN

// Sinusoidal, learned and rotary position encodings: formulas by hand and against PyTorch written inline, gradients
// by finite differences (second order too), state-dict keys, offsets for cached decoding.

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
    Tensor.randn(shape, dtype: .float64, generator: RandomGenerator(seed: seed))
}

@Suite struct SinusoidalPositionalEncodingTests {
    @Test func formulaByHand() {
        let pe = sinusoidalPositionalEncoding(positions: 0..<3, embeddingDim: 4, dtype: .float64)
        #expect(pe.shape == [3, 4])
        // Columns: sin(p), cos(p), sin(p/100), cos(p/100), as 10000^(2/4) = 100.
        let expected = (0..<3).flatMap { p -> [Double] in
            let x = Double(p)
            return [sin(x), cos(x), sin(x / 100), cos(x / 100)]
        }
        #expect(isClose(pe, doubles([3, 4], expected), tolerance: 1e-15))
        // An odd width ends with a sine column; a range not at 0 gives those rows.
        let odd = sinusoidalPositionalEncoding(positions: 5..<6, embeddingDim: 3, dtype: .float64)
        #expect(isClose(odd, doubles([1, 3], [sin(5), cos(5), sin(5 / pow(10_000, 2.0 / 3))]), tolerance: 1e-15))
        #expect(sinusoidalPositionalEncoding(positions: 0..<0, embeddingDim: 4).shape == [0, 4])
    }

    @Test func layerAddsRowsAtTheOffsetAndHasNoState() throws {
        let layer = SinusoidalPositionalEncoding(embeddingDim: 6)
        #expect(layer.stateDict().isEmpty && layer.parameters().isEmpty)
        let x = random([2, 5, 6], seed: 1)
        let y = layer(Variable(x), offset: 3).value
        let table = sinusoidalPositionalEncoding(positions: 3..<8, embeddingDim: 6, dtype: .float64)
        #expect(isClose(y, x + table.reshaped([1, 5, 6]), tolerance: 1e-15))
        #expect(isClose(layer(Variable(x)).value, x + sinusoidalPositionalEncoding(positions: 0..<5, embeddingDim: 6, dtype: .float64).reshaped([1, 5, 6])))
        #expect(layer(Variable(Tensor.zeros([4, 6]))).dtype == .float32)
        try gradgradcheck({ layer($0[0], offset: 2).squared() }, inputs: [random([3, 6], seed: 2)])
    }

    /// PyTorch's tutorial formula (`div_term = exp(arange(0, d, 2) * (-log(10000) / d))`), written inline.
    @Test func matchesPyTorchsTutorialFormula() throws {
        let script = """
        import json, math, sys, torch
        r = json.load(sys.stdin)
        d, n = r["d"], r["n"]
        position = torch.arange(n, dtype=torch.float64).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
        pe = torch.zeros(n, d, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        json.dump({"pe": pe.flatten().tolist()}, sys.stdout)
        """
        guard let answer = try TorchLayerReference.run(script: script, ["d": 64, "n": 200]) else {
            print("skipped: torch is not importable by python3"); return
        }
        let torchPE = doubles([200, 64], answer["pe"] as! [Double])
        #expect(isClose(sinusoidalPositionalEncoding(positions: 0..<200, embeddingDim: 64, dtype: .float64), torchPE, tolerance: 1e-10))
    }
}

@Suite struct LearnedPositionalEmbeddingTests {
    @Test func addsTheRowsOfItsPositions() throws {
        let layer = LearnedPositionalEmbedding(maxPositions: 8, embeddingDim: 3, dtype: .float64, generator: RandomGenerator(seed: 3))
        #expect(layer.stateDict().keys.sorted() == ["weight"] && layer.weight.shape == [8, 3])
        let x = random([2, 4, 3], seed: 4)
        let y = layer(Variable(x), offset: 4)
        let rows = layer.weight.value.sliced(axis: 0, start: 4, end: 8)
        #expect(isClose(y.value, x + rows.reshaped([1, 4, 3]), tolerance: 0))
        // The gradient reaches exactly the rows used, summed over the batch.
        y.sum().backward()
        let grad = layer.weight.grad!.doubles
        #expect(grad.prefix(12).allSatisfy { $0 == 0 } && grad.suffix(12).allSatisfy { $0 == 2 })
        let w = layer.weight.value
        try gradgradcheck({ v in embedding(TensorIndices(Array(1..<4)), v[0]).squared() }, inputs: [w])
        try gradcheck({ v in (v[0] + layer.positions(0..<4)).sum(axes: [1]) }, inputs: [random([4, 3], seed: 5)])
    }

    @Test func outOfRangePositionsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = LearnedPositionalEmbedding(maxPositions: 4, embeddingDim: 2)(Variable(Tensor.zeros([3, 2])), offset: 2)
        }
    }

    /// nanoGPT's `wpe` (an `nn.Embedding`) loads strictly and gives the same rows.
    @Test func loadsATorchEmbeddingStateDict() throws {
        let weight = (0..<(16 * 5)).map { Double($0 % 13) / 7 - 0.9 }
        let request: [String: Any] = ["layer": "Embedding", "num_embeddings": 16, "embedding_dim": 5, "padding_idx": NSNull(),
                                      "weight": weight, "x": Array(3..<9), "x_shape": [6],
                                      "g": [Double](repeating: 1, count: 30)]
        guard let answer = try TorchLayerReference.run(request) else { print("skipped: torch is not importable by python3"); return }
        let layer = LearnedPositionalEmbedding(maxPositions: 16, embeddingDim: 5)
        let keys = answer["keys"] as! [String]
        _ = try layer.loadStateDict(Dictionary(uniqueKeysWithValues: keys.map { ($0, Tensor(shape: [16, 5], scalars: weight.map(Float.init))) }))
        let y = layer(Variable(Tensor.zeros([6, 5])), offset: 3)
        #expect(isClose(y.value, Tensor(shape: [6, 5], scalars: (answer["y"] as! [Double]).map(Float.init)), tolerance: 1e-5))
    }
}

@Suite struct RotaryEmbeddingTests {
    /// D = 4, position 1: pairs (x0, x2) turn by 1 rad, (x1, x3) by 1/100 rad.
    @Test func rotatesFirstHalfWithSecondHalf() {
        let x = Variable(doubles([2, 4], [1, 2, 3, 4, 1, 2, 3, 4]))
        let y = rotaryEmbedding(x, offset: 0).value.doubles
        #expect(Array(y.prefix(4)) == [1, 2, 3, 4])   // position 0: no rotation
        let (c1, s1, c2, s2) = (cos(1.0), sin(1.0), cos(0.01), sin(0.01))
        let expected = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]
        #expect(zip(y.suffix(4), expected).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
    }

    /// What RoPE is for: q·k depends on the distance between the positions alone, and norms are kept.
    @Test func dotProductsDependOnRelativePositionOnly() {
        let q = Variable(random([1, 1, 1, 8], seed: 6)), k = Variable(random([1, 1, 1, 8], seed: 7))
        func score(_ m: Int, _ n: Int) -> Double {
            (rotaryEmbedding(q, offset: m) * rotaryEmbedding(k, offset: n)).sum().value.doubles[0]
        }
        let (a, b, c, d) = (score(3, 1), score(10, 8), score(0, 5), score(20, 25))
        #expect(Swift.abs(a - b) < 1e-12)
        #expect(Swift.abs(c - d) < 1e-12)
        #expect(Swift.abs(score(3, 1) - score(3, 2)) > 1e-3)
        func squaredNorm(_ t: Tensor) -> Double { t.doubles.map { $0 * $0 }.reduce(0, +) }
        let rotated = rotaryEmbedding(q, offset: 7).value
        #expect(Swift.abs(squaredNorm(rotated) - squaredNorm(q.value)) < 1e-12)
    }

    /// Decoding with a cache: rows rotated one at a time at their offsets equal the whole sequence rotated at once.
    @Test func offsetMatchesTheFullSequence() {
        let rope = RotaryEmbedding(headDim: 6)
        let x = random([2, 3, 5, 6], seed: 8)
        let whole = rope(Variable(x)).value
        for t in 0..<5 {
            let row = rope(Variable(x.sliced(axis: 2, start: t, end: t + 1)), offset: t).value
            #expect(isClose(row, whole.sliced(axis: 2, start: t, end: t + 1), tolerance: 1e-15))
        }
        #expect(rope.stateDict().isEmpty)
    }

    @Test func gradientsToSecondOrder() throws {
        try gradcheck({ rotaryEmbedding($0[0], offset: 3) }, inputs: [random([2, 2, 3, 4], seed: 9)])
        try gradgradcheck({ rotaryEmbedding($0[0], offset: 1, base: 100).squared() }, inputs: [random([3, 4], seed: 10)])
        try gradcheck({ rotaryEmbedding($0[0]) }, inputs: [random([1, 0, 2], seed: 11)])   // an empty sequence
    }

    @Test func oddHeadDimTraps() async {
        await #expect(processExitsWith: .failure) { _ = RotaryEmbedding(headDim: 5) }
        await #expect(processExitsWith: .failure) { _ = rotaryEmbedding(Variable(Tensor.zeros([2, 3])), offset: 0) }
    }

    /// Hugging Face's Llama formulas (`inv_freq`, `rotate_half`, `apply_rotary_pos_emb`), written inline in torch:
    /// forward and the gradient with respect to the input.
    @Test func matchesHuggingFaceLlamaFormulaInTorch() throws {
        let shape = [2, 3, 7, 8], offset = 5
        let x = random(shape, seed: 12), g = random(shape, seed: 13)
        let script = """
        import json, sys, torch
        r = json.load(sys.stdin)
        shape, off, base = r["shape"], r["offset"], r["base"]
        D, T = shape[-1], shape[-2]
        x = torch.tensor(r["x"], dtype=torch.float64).reshape(shape).requires_grad_(True)
        inv_freq = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.int64).to(torch.float64) / D))
        t = torch.arange(off, off + T, dtype=torch.float64)
        emb = torch.cat((torch.outer(t, inv_freq),) * 2, dim=-1)
        def rotate_half(v):
            return torch.cat((-v[..., D // 2:], v[..., :D // 2]), dim=-1)
        y = x * emb.cos() + rotate_half(x) * emb.sin()
        y.backward(torch.tensor(r["g"], dtype=torch.float64).reshape(shape))
        json.dump({"y": y.detach().flatten().tolist(), "x_grad": x.grad.flatten().tolist()}, sys.stdout)
        """
        guard let answer = try TorchLayerReference.run(script: script, ["shape": shape, "offset": offset, "base": 10_000.0,
                                                                        "x": x.doubles, "g": g.doubles]) else {
            print("skipped: torch is not importable by python3"); return
        }
        let v = Variable(x, requiresGrad: true)
        let y = RotaryEmbedding(headDim: 8)(v, offset: offset)
        y.backward(seed: g)
        #expect(isClose(y.value, doubles(shape, answer["y"] as! [Double]), tolerance: 1e-12))
        #expect(isClose(v.grad!, doubles(shape, answer["x_grad"] as! [Double]), tolerance: 1e-12))
    }
}
