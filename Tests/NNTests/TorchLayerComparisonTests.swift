import Foundation
import Testing
@testable import NN

// LayerNorm, RMSNorm and Embedding against PyTorch's modules with the same parameters (float32): outputs and
// gradients within 1e-5 (relative to the values' scale), and the same state-dict keys. Skipped, with the reason,
// when python3 cannot import torch.

/// Whether `a` and torch's flat `b` agree within `tolerance` relative to the larger magnitude of `b` (at least 1).
private func agree(_ a: Tensor, _ b: Any?, tolerance: Double = 1e-5) -> Bool {
    guard let b = b as? [Double], a.count == b.count else { return false }
    let scale = Swift.max(1, b.map(Swift.abs).max() ?? 0)
    return zip(a.doubles, b).allSatisfy { Swift.abs($0 - $1) <= tolerance * scale }
}

@Suite(.enabled(if: TorchLayerReference.isAvailable, "torch is not importable: pip install torch==2.13.0+cpu"))
struct TorchLayerComparisonTests {
    /// Runs `layer` on `x` (float32), backward with `g`, and asks torch for the same; compares everything.
    private func compare(_ layer: Module, request: [String: Any], x: Tensor, seed: UInt64, label: String) throws {
        let input = Variable(x, requiresGrad: true)
        let y = layer(input)
        let g = Tensor.randn(y.shape, generator: RandomGenerator(seed: seed))
        y.backward(seed: g)
        var full = request
        full["x"] = x.doubles
        full["x_shape"] = x.shape
        full["g"] = g.doubles
        for (name, p) in layer.namedParameters() { full[name] = p.value.doubles }
        let torch = try #require(try TorchLayerReference.run(full))
        #expect((torch["keys"] as? [String])?.sorted() == layer.stateDict().keys.sorted(), "\(label): state-dict keys")
        #expect(torch["y_shape"] as? [Int] == y.shape, "\(label)")
        #expect(agree(y.value, torch["y"]), "\(label): output")
        #expect(agree(input.grad!, torch["x_grad"]), "\(label): input gradient")
        for (name, p) in layer.namedParameters() {
            #expect(agree(p.grad!, torch[name + "_grad"]), "\(label): \(name) gradient")
        }
    }

    @Test func layerNormMatchesTorch() throws {
        for (k, (normalized, affine, bias)) in [([8], true, true), ([5, 8], true, true), ([8], true, false), ([5, 8], false, false)].enumerated() {
            let layer = LayerNorm(normalizedShape: normalized, elementwiseAffine: affine, bias: bias)
            for p in layer.parameters() { p.value = Tensor.uniform(p.shape, low: -1, high: 2, generator: RandomGenerator(seed: UInt64(k))) }
            let x = Tensor.randn([3, 5, 8], generator: RandomGenerator(seed: UInt64(10 + k))) * 2 + 0.5
            try compare(layer, request: ["layer": "LayerNorm", "normalized_shape": normalized, "eps": 1e-5, "affine": affine, "bias": bias],
                        x: x, seed: UInt64(20 + k), label: "LayerNorm \(normalized) affine \(affine) bias \(bias)")
        }
    }

    @Test func groupNormMatchesTorch() throws {
        let configurations: [(shape: [Int], groups: Int, affine: Bool)] = [([3, 6, 5], 2, true), ([2, 6, 3, 4], 3, true),
                                                                             ([4, 6, 2], 6, true), ([2, 4, 7], 1, false)]
        for (k, c) in configurations.enumerated() {
            let layer = GroupNorm(numGroups: c.groups, numChannels: c.shape[1], affine: c.affine)
            for p in layer.parameters() { p.value = Tensor.uniform(p.shape, low: -1, high: 2, generator: RandomGenerator(seed: UInt64(k))) }
            let x = Tensor.randn(c.shape, generator: RandomGenerator(seed: UInt64(50 + k))) * 2 + 0.5
            try compare(layer, request: ["layer": "GroupNorm", "num_groups": c.groups, "num_channels": c.shape[1], "eps": 1e-5,
                                         "affine": c.affine],
                        x: x, seed: UInt64(60 + k), label: "GroupNorm \(c)")
        }
    }

    @Test func rmsNormMatchesTorch() throws {
        let configurations: [([Int], Bool, Double?)] = [([8], true, nil), ([5, 8], true, 1e-6), ([8], false, nil)]
        for (k, (normalized, affine, eps)) in configurations.enumerated() {
            let layer = RMSNorm(normalizedShape: normalized, eps: eps, elementwiseAffine: affine)
            for p in layer.parameters() { p.value = Tensor.uniform(p.shape, low: -1, high: 2, generator: RandomGenerator(seed: UInt64(k))) }
            // Small values, so that the default ε (Float's machine epsilon) matters.
            let x = Tensor.randn([3, 5, 8], generator: RandomGenerator(seed: UInt64(30 + k))) * (eps == nil ? 3e-4 : 2)
            try compare(layer, request: ["layer": "RMSNorm", "normalized_shape": normalized, "eps": eps as Any? ?? NSNull(), "affine": affine],
                        x: x, seed: UInt64(40 + k), label: "RMSNorm \(normalized) affine \(affine) eps \(String(describing: eps))")
        }
    }

    @Test func embeddingMatchesTorch() throws {
        for padding in [nil, 2, -1] as [Int?] {
            let layer = Embedding(numEmbeddings: 7, embeddingDim: 4, paddingIndex: padding, generator: RandomGenerator(seed: 50))
            let tokens = [2, 6, 2, 0, 1, 6, 6, 3]
            let y = layer(TensorIndices(shape: [2, 4], values: tokens))
            let g = Tensor.randn(y.shape, generator: RandomGenerator(seed: 51))
            y.backward(seed: g)
            let request: [String: Any] = ["layer": "Embedding", "num_embeddings": 7, "embedding_dim": 4, "padding_idx": padding as Any? ?? NSNull(),
                                          "weight": layer.weight.value.doubles, "x": tokens, "x_shape": [2, 4], "g": g.doubles]
            let torch = try #require(try TorchLayerReference.run(request))
            #expect(torch["keys"] as? [String] == ["weight"])
            #expect(torch["y_shape"] as? [Int] == [2, 4, 4])
            #expect(agree(y.value, torch["y"]) && agree(layer.weight.grad!, torch["weight_grad"]), "paddingIndex \(String(describing: padding))")
        }
    }
}
