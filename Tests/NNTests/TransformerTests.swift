import AutoGrad
import Foundation
import Testing
@testable import NN

// MultiheadAttention and the Transformer layers: PyTorch modules' state dicts load strictly and give the same
// outputs (eval mode, 1e-5), masks in every form, gradients by finite differences, and cached incremental decoding
// equal to the full causal forward.

/// Builds a PyTorch module from Python source, evaluates a call on given inputs, and returns its state dict and
/// outputs (float32), through `python3`; nil when torch is unavailable.
enum TorchModuleReference {
    struct Answer {
        var state: [String: Tensor]
        var keys: [String]
        var outputs: [Tensor]
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The reason printed by tests skipped for lack of torch.
    static let skipReason: Comment = "torch is not importable by python3: pip install torch==2.13.0+cpu"

    private static let script = """
    import json, sys, torch
    r = json.load(sys.stdin)
    torch.manual_seed(r["seed"])
    def T(d): return torch.tensor([float(v) for v in d["values"]], dtype=torch.float32).reshape(d["shape"])
    def E(t): return {"shape": list(t.shape), "values": [repr(float(v)) for v in t.detach().reshape(-1).tolist()]}
    env = {"torch": torch, "nn": torch.nn, "x": {k: T(v) for k, v in r["inputs"].items()}}
    exec(r["build"], env)
    m = env["m"].eval()
    outs = eval(r["call"], env)
    sd = m.state_dict()
    json.dump({"state": {k: E(v) for k, v in sd.items()}, "keys": list(sd.keys()), "outputs": [E(o) for o in outs]}, sys.stdout)
    """

    static func run(build: String, call: String, inputs: [String: Tensor], seed: Int = 0) throws -> Answer? {
        guard TorchLayerReference.isAvailable else { return nil }
        func encode(_ t: Tensor) -> [String: Any] { ["shape": t.shape, "values": t.doubles.map(\.description)] }
        let request: [String: Any] = ["build": build, "call": call, "seed": seed, "inputs": inputs.mapValues(encode)]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: request))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile(), err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: String(decoding: err, as: UTF8.self)) }
        guard let reply = try JSONSerialization.jsonObject(with: out) as? [String: Any], let state = reply["state"] as? [String: Any],
              let keys = reply["keys"] as? [String], let outputs = reply["outputs"] as? [Any] else {
            throw Failure(description: "unreadable reply")
        }
        func decode(_ any: Any) throws -> Tensor {
            guard let d = any as? [String: Any], let shape = d["shape"] as? [Int], let values = d["values"] as? [String] else {
                throw Failure(description: "not a tensor: \(any)")
            }
            return Tensor(shape: shape, scalars: values.map { Double($0)! }, dtype: .float32)
        }
        return Answer(state: try state.mapValues(decode), keys: keys, outputs: try outputs.map(decode))
    }
}

/// Same shape and every element within `tolerance` (absolute and relative).
private func expectClose(_ a: Tensor, _ b: Tensor, _ tolerance: Double = 1e-5, _ label: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.shape == b.shape else {
        Issue.record("\(label): shape \(a.shape), expected \(b.shape)", sourceLocation: sourceLocation)
        return
    }
    for (i, (x, y)) in zip(a.doubles, b.doubles).enumerated() where !(Swift.abs(x - y) <= tolerance * (1 + Swift.abs(y))) {
        Issue.record("\(label): element \(i) is \(x), expected \(y)", sourceLocation: sourceLocation)
        return
    }
}

/// Loads torch's state dict strictly into `module`, checks the keys agree both ways, and returns the answer's outputs.
private func loadTorch(_ module: Module, _ answer: TorchModuleReference.Answer, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try module.loadStateDict(answer.state, strict: true)
    #expect(Set(module.stateDict().keys) == Set(answer.keys), sourceLocation: sourceLocation)
    #expect(module.namedParameters().map(\.name) == answer.keys, "parameter order", sourceLocation: sourceLocation)
}

private func randomInput(_ shape: [Int], seed: UInt64) -> Tensor {
    Tensor.randn(shape, dtype: .float32, generator: RandomGenerator(seed: seed))
}

@Suite struct MultiheadAttentionTests {
    @Test func parametersFollowPyTorch() {
        let packed = MultiheadAttention(embedDim: 8, numHeads: 2)
        #expect(packed.namedParameters().map(\.name) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        #expect(packed.inProjWeight?.shape == [24, 8] && packed.inProjBias?.value.doubles.allSatisfy { $0 == 0 } == true)
        #expect(packed.outProj.bias?.value.doubles.allSatisfy { $0 == 0 } == true)
        // Xavier uniform over [3E, E]: bound √(6 / (E + 3E)).
        let bound = (6.0 / 32).squareRoot()
        #expect(packed.inProjWeight!.value.doubles.allSatisfy { Swift.abs($0) <= bound })
        #expect(packed.inProjWeight!.value.doubles.contains { Swift.abs($0) > bound * 0.9 })
        let separate = MultiheadAttention(embedDim: 8, numHeads: 2, bias: false, kdim: 5, vdim: 3)
        #expect(separate.namedParameters().map(\.name) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"])
        #expect(separate.kProjWeight?.shape == [8, 5] && separate.vProjWeight?.shape == [8, 3])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let attention = MultiheadAttention(embedDim: 4, numHeads: 2, kdim: 3, vdim: 5, batchFirst: true, dtype: .float64)
        let q = Tensor.randn([2, 3, 4], dtype: .float64, generator: RandomGenerator(seed: 1))
        let k = Tensor.randn([2, 4, 3], dtype: .float64, generator: RandomGenerator(seed: 2))
        let v = Tensor.randn([2, 4, 5], dtype: .float64, generator: RandomGenerator(seed: 3))
        let padding = Tensor(shape: [2, 4], scalars: [0, 0, 1, 0, 1, 0, 0, 0], dtype: .float64)
        for needWeights in [false, true] {
            try gradcheck({ x in
                attention.forward(query: x[0], key: x[1], value: x[2], keyPaddingMask: padding, needWeights: needWeights).output
            }, inputs: [q, k, v])
        }
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, TorchModuleReference.skipReason))
    func matchesTorch() throws {
        let (l, s, n, e) = (5, 6, 2, 8)
        let padding = Tensor(shape: [n, s], scalars: [0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0], dtype: .float32)
        let blocked = Tensor(shape: [l, s], scalars: (0..<(l * s)).map { $0 % 7 == 3 ? 1 : 0 }, dtype: .float32)
        for batchFirst in [false, true] {
            let shape = { (t: Int, width: Int) in batchFirst ? [n, t, width] : [t, n, width] }
            let inputs = ["q": randomInput(shape(l, e), seed: 10), "k": randomInput(shape(s, 5), seed: 11), "v": randomInput(shape(s, 3), seed: 12),
                          "self": randomInput(shape(l, e), seed: 13), "kpm": padding, "mask": blocked]
            // Cross-attention with separate projections, padding and a boolean mask; weights per head and averaged.
            let cross = try #require(try TorchModuleReference.run(
                build: "m = nn.MultiheadAttention(\(e), 2, kdim=5, vdim=3, batch_first=\(batchFirst ? "True" : "False"))",
                call: """
                [*m(x["q"], x["k"], x["v"], key_padding_mask=x["kpm"] > 0, attn_mask=x["mask"] > 0, average_attn_weights=False),
                 m(x["q"], x["k"], x["v"], key_padding_mask=x["kpm"] > 0, need_weights=False)[0],
                 m(x["q"], x["k"], x["v"], attn_mask=x["mask"] > 0)[1]]
                """, inputs: inputs))
            let ours = MultiheadAttention(embedDim: e, numHeads: 2, kdim: 5, vdim: 3, batchFirst: batchFirst)
            try loadTorch(ours, cross)
            ours.eval()
            let (q, k, v) = (Variable(inputs["q"]!), Variable(inputs["k"]!), Variable(inputs["v"]!))
            let full = ours.forward(query: q, key: k, value: v, keyPaddingMask: padding, attnMask: .blocked(blocked), averageAttnWeights: false)
            expectClose(full.output.value, cross.outputs[0], 1e-5, "cross output, batchFirst \(batchFirst)")
            expectClose(full.weights!.value, cross.outputs[1], 1e-5, "cross weights per head")
            let fused = ours.forward(query: q, key: k, value: v, keyPaddingMask: padding, needWeights: false)
            #expect(fused.weights == nil)
            expectClose(fused.output.value, cross.outputs[2], 1e-5, "cross output without weights")
            expectClose(ours.forward(query: q, key: k, value: v, attnMask: .blocked(blocked)).weights!.value, cross.outputs[3], 1e-5,
                        "averaged weights")
            // Self-attention through the packed projection, causal.
            let causal = try #require(try TorchModuleReference.run(
                build: "m = nn.MultiheadAttention(\(e), 4, batch_first=\(batchFirst ? "True" : "False"))",
                call: """
                [m(x["self"], x["self"], x["self"], attn_mask=nn.Transformer.generate_square_subsequent_mask(\(l)), is_causal=True,
                   need_weights=False)[0]]
                """, inputs: inputs, seed: 1))
            let packed = MultiheadAttention(embedDim: e, numHeads: 4, batchFirst: batchFirst)
            try loadTorch(packed, causal)
            packed.eval()
            let x = Variable(inputs["self"]!)
            expectClose(packed.forward(query: x, key: x, value: x, needWeights: false, isCausal: true).output.value, causal.outputs[0],
                        1e-5, "causal self-attention")
        }
    }
}

/// The Python constructor arguments of a layer configuration.
private func torchArguments(dModel: Int, nhead: Int, ff: Int, gelu: Bool, normFirst: Bool, batchFirst: Bool) -> String {
    "\(dModel), \(nhead), dim_feedforward=\(ff), activation=\"\(gelu ? "gelu" : "relu")\", norm_first=\(normFirst ? "True" : "False"), batch_first=\(batchFirst ? "True" : "False")"
}

@Suite(.enabled(if: TorchLayerReference.isAvailable, TorchModuleReference.skipReason))
struct TransformerTorchTests {
    @Test func encoderLayersMatchTorch() throws {
        let (t, n, d) = (6, 2, 8)
        let padding = Tensor(shape: [n, t], scalars: [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1], dtype: .float32)
        for (normFirst, gelu, batchFirst) in [(false, false, false), (true, true, true), (true, false, false), (false, true, true)] {
            let input = randomInput(batchFirst ? [n, t, d] : [t, n, d], seed: 20)
            let args = torchArguments(dModel: d, nhead: 2, ff: 16, gelu: gelu, normFirst: normFirst, batchFirst: batchFirst)
            let answer = try #require(try TorchModuleReference.run(
                build: "m = nn.TransformerEncoderLayer(\(args))",
                call: """
                [m(x["src"], src_key_padding_mask=x["kpm"] > 0),
                 m(x["src"], src_mask=nn.Transformer.generate_square_subsequent_mask(\(t)), is_causal=True)]
                """, inputs: ["src": input, "kpm": padding]))
            let layer = TransformerEncoderLayer(dModel: d, nhead: 2, dimFeedforward: 16, activation: gelu ? .gelu : .relu,
                                                batchFirst: batchFirst, normFirst: normFirst)
            try loadTorch(layer, answer)
            layer.eval()
            let label = "encoder layer normFirst \(normFirst) gelu \(gelu) batchFirst \(batchFirst)"
            expectClose(layer.forward(Variable(input), srcKeyPaddingMask: padding).value, answer.outputs[0], 1e-5, label + ", padding")
            expectClose(layer.forward(Variable(input), isCausal: true).value, answer.outputs[1], 1e-5, label + ", causal")
        }
    }

    @Test func decoderLayersMatchTorch() throws {
        let (t, s, n, d) = (5, 7, 2, 8)
        let memoryPadding = Tensor(shape: [n, s], scalars: (0..<(n * s)).map { $0 % 5 == 4 ? 1 : 0 }, dtype: .float32)
        for (normFirst, gelu, batchFirst) in [(false, false, false), (true, true, true)] {
            let tgt = randomInput(batchFirst ? [n, t, d] : [t, n, d], seed: 30)
            let memory = randomInput(batchFirst ? [n, s, d] : [s, n, d], seed: 31)
            let args = torchArguments(dModel: d, nhead: 2, ff: 16, gelu: gelu, normFirst: normFirst, batchFirst: batchFirst)
            let answer = try #require(try TorchModuleReference.run(
                build: "m = nn.TransformerDecoderLayer(\(args))",
                call: """
                [m(x["tgt"], x["mem"], tgt_mask=nn.Transformer.generate_square_subsequent_mask(\(t)), tgt_is_causal=True,
                   memory_key_padding_mask=x["mkpm"] > 0)]
                """, inputs: ["tgt": tgt, "mem": memory, "mkpm": memoryPadding]))
            let layer = TransformerDecoderLayer(dModel: d, nhead: 2, dimFeedforward: 16, activation: gelu ? .gelu : .relu,
                                                batchFirst: batchFirst, normFirst: normFirst)
            try loadTorch(layer, answer)
            layer.eval()
            expectClose(layer.forward(Variable(tgt), memory: Variable(memory), memoryKeyPaddingMask: memoryPadding, tgtIsCausal: true).value,
                        answer.outputs[0], 1e-5, "decoder layer normFirst \(normFirst) gelu \(gelu)")
        }
    }

    @Test func stacksMatchTorch() throws {
        let (t, s, n, d) = (5, 6, 2, 8)
        let src = randomInput([n, s, d], seed: 40), tgt = randomInput([n, t, d], seed: 41)
        let args = torchArguments(dModel: d, nhead: 2, ff: 16, gelu: false, normFirst: true, batchFirst: true)
        let encoderAnswer = try #require(try TorchModuleReference.run(
            build: "m = nn.TransformerEncoder(nn.TransformerEncoderLayer(\(args)), 2, norm=nn.LayerNorm(\(d)), enable_nested_tensor=False)",
            call: "[m(x[\"src\"], mask=nn.Transformer.generate_square_subsequent_mask(\(s)), is_causal=True)]", inputs: ["src": src]))
        let encoder = TransformerEncoder(numLayers: 2, norm: LayerNorm(normalizedShape: d)) {
            TransformerEncoderLayer(dModel: d, nhead: 2, dimFeedforward: 16, batchFirst: true, normFirst: true)
        }
        try loadTorch(encoder, encoderAnswer)
        encoder.eval()
        expectClose(encoder.forward(Variable(src), isCausal: true).value, encoderAnswer.outputs[0], 1e-5, "encoder stack")

        let decoderAnswer = try #require(try TorchModuleReference.run(
            build: "m = nn.TransformerDecoder(nn.TransformerDecoderLayer(\(args)), 2)",
            call: "[m(x[\"tgt\"], x[\"src\"], tgt_mask=nn.Transformer.generate_square_subsequent_mask(\(t)), tgt_is_causal=True)]",
            inputs: ["src": src, "tgt": tgt]))
        let decoder = TransformerDecoder(numLayers: 2) {
            TransformerDecoderLayer(dModel: d, nhead: 2, dimFeedforward: 16, batchFirst: true, normFirst: true)
        }
        #expect(decoder.stateDict().keys.contains("layers.1.multihead_attn.in_proj_weight"))
        try loadTorch(decoder, decoderAnswer)
        decoder.eval()
        expectClose(decoder.forward(Variable(tgt), memory: Variable(src), tgtIsCausal: true).value, decoderAnswer.outputs[0], 1e-5,
                    "decoder stack")
    }
}

@Suite struct KeyValueCacheTests {
    /// Running a causal sequence in pieces through the cache gives the full causal forward's outputs.
    @Test func cachedStepsEqualTheFullCausalForward() {
        let (t, n, d) = (7, 2, 8)
        for batchFirst in [true, false] {
            let generator = RandomGenerator(seed: 50)
            let encoder = TransformerEncoder(numLayers: 2, norm: LayerNorm(normalizedShape: d, dtype: .float64)) {
                TransformerEncoderLayer(dModel: d, nhead: 2, dimFeedforward: 16, activation: .gelu, batchFirst: batchFirst,
                                        normFirst: true, dtype: .float64, generator: generator)
            }
            encoder.eval()
            let sequenceAxis = batchFirst ? 1 : 0
            let x = Variable(Tensor.randn(batchFirst ? [n, t, d] : [t, n, d], dtype: .float64, generator: generator))
            let full = encoder.forward(x, isCausal: true)
            for pieces in [[1, 1, 1, 1, 1, 1, 1], [3, 1, 2, 1], [7]] {
                let caches = encoder.makeCaches()
                var start = 0, outputs: [Variable] = []
                for length in pieces {
                    outputs.append(encoder.forward(x.sliced(axis: sequenceAxis, start: start, end: start + length), caches: caches))
                    start += length
                }
                #expect(caches.allSatisfy { $0.count == t } && caches[0].keys?.shape == [n, 2, t, d / 2])
                let stepped = Variable.concatenate(outputs, axis: sequenceAxis).value
                #expect(isClose(stepped, full.value, tolerance: 1e-12), "pieces \(pieces), batchFirst \(batchFirst)")
            }
            let cache = KeyValueCache()
            _ = encoder.encoderLayers[0].forward(x, cache: cache)
            cache.reset()
            #expect(cache.count == 0 && cache.keys == nil)
        }
    }
}
