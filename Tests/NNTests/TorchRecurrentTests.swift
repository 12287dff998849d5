import Foundation
import Testing
@testable import NN

// The recurrent layers, cells and step ops against PyTorch (float32): PyTorch's state dict loads strictly into ours
// and gives the same outputs and gradients (input, initial states, every parameter) within 1e-5; ours loads strictly
// into PyTorch and gives the same outputs. Skipped, with the reason, when python3 cannot import torch.

/// Runs one request (see the script) in python3 with torch.
private func torch(_ request: [String: Any]) throws -> [String: Any] {
    let input = try JSONSerialization.data(withJSONObject: request)
    let (status, output) = TorchLayerReference.python(script: torchRecurrentScript, input: input)
    guard status == 0 else { throw TorchLayerReference.ReferenceError.failed(String(decoding: output, as: UTF8.self)) }
    return try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
}

/// A step formula (`lstm_step`, `gru_step`) or a `torch.nn` module (`kind`, constructor `args`). For a module: `torch`'s
/// own initialisation (seeded) is returned as `state`, the module is run on `x` and the initial `states` and
/// differentiated with `seeds`; then a second module loads `ours` strictly and its outputs come back as `ours_outputs`.
private let torchRecurrentScript = """
import json, sys, torch
torch.set_num_threads(1)
r = json.load(sys.stdin)
def tensor(d, dtype=torch.float32):
    return torch.tensor(d["values"], dtype=dtype).reshape(d["shape"])
def flat(t):
    return t.detach().flatten().tolist()
kind = r["kind"]
out = {}
if kind in ("lstm_step", "gru_step"):
    xs = [tensor(d, torch.float64).requires_grad_(True) for d in r["inputs"]]
    if kind == "lstm_step":
        i, f, g, o = xs[0].chunk(4, -1)
        c = f.sigmoid() * xs[1] + i.sigmoid() * g.tanh()
        outs = [o.sigmoid() * c.tanh(), c]
    else:
        xr, xz, xn = xs[0].chunk(3, -1)
        hr, hz, hn = xs[1].chunk(3, -1)
        rr, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + rr * hn).tanh()
        outs = [(1 - z) * n + z * xs[2]]
    torch.autograd.backward(outs, [tensor(d, torch.float64) for d in r["seeds"]])
    out = {"outputs": [flat(o) for o in outs], "grads": [flat(x.grad) for x in xs]}
else:
    cls = getattr(torch.nn, kind)
    def call(m, x, states):
        if kind in ("LSTM", "LSTMCell"):
            res = m(x, tuple(states) if states else None)
            return [res[0], res[1][0], res[1][1]] if kind == "LSTM" else list(res)
        res = m(x, states[0] if states else None)
        return list(res) if kind in ("RNN", "GRU") else [res]
    torch.manual_seed(r["seed"])
    m = cls(**r["args"])
    x = tensor(r["x"]).requires_grad_(True)
    states = [tensor(d).requires_grad_(True) for d in r["states"]]
    outs = call(m, x, states)
    torch.autograd.backward(outs, [tensor(d) for d in r["seeds"]])
    out["state"] = {k: {"values": flat(v), "shape": list(v.shape)} for k, v in m.state_dict().items()}
    out["keys"] = list(m.state_dict().keys())
    out["outputs"] = [flat(o) for o in outs]
    out["output_shapes"] = [list(o.shape) for o in outs]
    out["grads"] = [flat(x.grad)] + [flat(s.grad) for s in states]
    out["param_grads"] = {k: flat(p.grad) for k, p in m.named_parameters()}
    m2 = cls(**r["args"])
    m2.load_state_dict({k: tensor(d) for k, d in r["ours"].items()}, strict=True)
    with torch.no_grad():
        out["ours_outputs"] = [flat(o) for o in call(m2, x, states)]
json.dump(out, sys.stdout)
"""

private func encode(_ t: Tensor) -> [String: Any] { ["values": t.doubles, "shape": t.shape] }

private func decode(_ any: Any?) throws -> Tensor {
    let d = try #require(any as? [String: Any])
    let values = try #require(d["values"] as? [Double]), shape = try #require(d["shape"] as? [Int])
    return Tensor(shape: shape, scalars: values, dtype: .float32)
}

/// Whether `a` agrees with torch's flat `b` within `tolerance` relative to the larger magnitude of `b` (at least 1).
private func agree(_ a: Tensor, _ b: Any?, tolerance: Double = 1e-5) -> Bool {
    guard let b = b as? [Double], a.count == b.count else { return false }
    let scale = Swift.max(1, b.map(Swift.abs).max() ?? 0)
    return zip(a.doubles, b).allSatisfy { Swift.abs($0 - $1) <= tolerance * scale }
}

@Suite(.enabled(if: TorchLayerReference.isAvailable, "torch is not importable: pip install torch==2.13.0+cpu"))
struct TorchRecurrentTests {
    /// Compares `make()` (ours, float32) with `torch.nn.<kind>(**args)` on `x` and the initial `states`, both ways.
    private func compare(_ kind: String, args: [String: Any], make: () -> Module, x: Tensor, states: [Tensor], seed: UInt64,
                         label: String) throws {
        let ours = make()
        let ourOutputs = runRecurrent(ours, Variable(x), states.map { Variable($0) })
        let seeds = ourOutputs.enumerated().map { Tensor.randn($1.shape, generator: RandomGenerator(seed: seed + UInt64($0))) }
        let answer = try torch(["kind": kind, "args": args, "seed": Int(seed), "x": encode(x), "states": states.map(encode),
                                "seeds": seeds.map(encode), "ours": ours.stateDict().mapValues(encode)])
        // Ours loaded strictly into torch gives our outputs.
        let oursInTorch = try #require(answer["ours_outputs"] as? [Any])
        for (o, t) in zip(ourOutputs, oursInTorch) { #expect(agree(o.value, t), "\(label): our weights in torch") }
        // Torch's weights loaded strictly into ours give torch's outputs and gradients.
        let theirs = try #require(answer["state"] as? [String: Any])
        #expect((answer["keys"] as? [String]) == ours.namedParameters().map(\.name), "\(label): state-dict keys and order")
        let loaded = make()
        try loaded.loadStateDict(try theirs.mapValues(decode), strict: true)
        let input = Variable(x, requiresGrad: true), stateVariables = states.map { Variable($0, requiresGrad: true) }
        let outputs = runRecurrent(loaded, input, stateVariables)
        #expect(outputs.map(\.shape) == (answer["output_shapes"] as? [[Int]]) ?? [], "\(label): output shapes")
        let torchOutputs = try #require(answer["outputs"] as? [Any])
        for (k, (o, t)) in zip(outputs, torchOutputs).enumerated() { #expect(agree(o.value, t), "\(label): output \(k)") }
        weightedSum(outputs, seeds).backward()
        let grads = try #require(answer["grads"] as? [Any])
        for (k, (v, t)) in zip([input] + stateVariables, grads).enumerated() { #expect(agree(v.grad!, t), "\(label): input gradient \(k)") }
        let paramGrads = try #require(answer["param_grads"] as? [String: Any])
        for (name, p) in loaded.namedParameters() { #expect(agree(p.grad!, paramGrads[name]), "\(label): \(name) gradient") }
    }

    @Test func layersMatchTorchBothWays() throws {
        struct Config { let layers: Int; let bidirectional: Bool; let batchFirst: Bool; let bias: Bool; let states: Bool; let unbatched: Bool }
        let configs = [Config(layers: 1, bidirectional: false, batchFirst: false, bias: true, states: false, unbatched: false),
                       Config(layers: 2, bidirectional: true, batchFirst: false, bias: true, states: true, unbatched: false),
                       Config(layers: 3, bidirectional: false, batchFirst: true, bias: false, states: true, unbatched: false),
                       Config(layers: 2, bidirectional: true, batchFirst: true, bias: true, states: false, unbatched: false),
                       Config(layers: 2, bidirectional: true, batchFirst: false, bias: true, states: true, unbatched: true)]
        for (kind, nonlinearity) in [("RNN", "tanh"), ("RNN", "relu"), ("LSTM", ""), ("GRU", "")] {
            for (k, c) in configs.enumerated() {
                let (steps, batch, input, hidden) = (5, 3, 4, 6)
                var args: [String: Any] = ["input_size": input, "hidden_size": hidden, "num_layers": c.layers, "bias": c.bias,
                                           "batch_first": c.batchFirst, "bidirectional": c.bidirectional]
                if kind == "RNN" { args["nonlinearity"] = nonlinearity }
                let make: () -> Module = {
                    switch kind {
                    case "LSTM": return LSTM(inputSize: input, hiddenSize: hidden, numLayers: c.layers, bias: c.bias, batchFirst: c.batchFirst,
                                             bidirectional: c.bidirectional)
                    case "GRU": return GRU(inputSize: input, hiddenSize: hidden, numLayers: c.layers, bias: c.bias, batchFirst: c.batchFirst,
                                           bidirectional: c.bidirectional)
                    default: return RNN(inputSize: input, hiddenSize: hidden, numLayers: c.layers, nonlinearity: nonlinearity == "relu" ? .relu : .tanh,
                                        bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional)
                    }
                }
                let xShape = c.unbatched ? [steps, input] : c.batchFirst ? [batch, steps, input] : [steps, batch, input]
                let stateShape = c.unbatched ? [c.layers * (c.bidirectional ? 2 : 1), hidden] : [c.layers * (c.bidirectional ? 2 : 1), batch, hidden]
                let seed = UInt64(100 * k + 7)
                let states = !c.states ? [] : (0..<(kind == "LSTM" ? 2 : 1)).map { Tensor.randn(stateShape, generator: RandomGenerator(seed: seed + 50 + UInt64($0))) }
                try compare(kind, args: args, make: make, x: Tensor.randn(xShape, generator: RandomGenerator(seed: seed)) * 1.5, states: states,
                            seed: seed, label: "\(kind)\(nonlinearity) \(c)")
            }
        }
    }

    @Test func cellsMatchTorchBothWays() throws {
        for kind in ["RNNCell", "LSTMCell", "GRUCell"] {
            for (k, (bias, states, unbatched)) in [(true, true, false), (false, false, false), (true, true, true)].enumerated() {
                let make: () -> Module = {
                    switch kind {
                    case "LSTMCell": return LSTMCell(inputSize: 4, hiddenSize: 5, bias: bias)
                    case "GRUCell": return GRUCell(inputSize: 4, hiddenSize: 5, bias: bias)
                    default: return RNNCell(inputSize: 4, hiddenSize: 5, bias: bias)
                    }
                }
                let seed = UInt64(30 * k + 3), stateShape = unbatched ? [5] : [3, 5]
                let stateTensors = !states ? [] : (0..<(kind == "LSTMCell" ? 2 : 1)).map { Tensor.randn(stateShape, generator: RandomGenerator(seed: seed + 9 + UInt64($0))) }
                try compare(kind, args: ["input_size": 4, "hidden_size": 5, "bias": bias], make: make,
                            x: Tensor.randn(unbatched ? [4] : [3, 4], generator: RandomGenerator(seed: seed)) * 1.5, states: stateTensors,
                            seed: seed, label: "\(kind) bias \(bias) states \(states) unbatched \(unbatched)")
            }
        }
        // The ReLU cell.
        try compare("RNNCell", args: ["input_size": 4, "hidden_size": 5, "nonlinearity": "relu"],
                    make: { RNNCell(inputSize: 4, hiddenSize: 5, nonlinearity: .relu) },
                    x: Tensor.randn([3, 4], generator: RandomGenerator(seed: 90)), states: [], seed: 90, label: "RNNCell relu")
    }

    @Test func stepOpsMatchTorchInDouble() throws {
        let gates = Tensor.randn([3, 2, 12], dtype: .float64, generator: RandomGenerator(seed: 1)) * 2
        let c = Tensor.randn([3, 2, 3], dtype: .float64, generator: RandomGenerator(seed: 2))
        let seeds = [Tensor.randn([3, 2, 3], dtype: .float64, generator: RandomGenerator(seed: 3)),
                     Tensor.randn([3, 2, 3], dtype: .float64, generator: RandomGenerator(seed: 4))]
        let g = Variable(gates, requiresGrad: true), cv = Variable(c, requiresGrad: true)
        let r = lstmCell(gates: g, cell: cv)
        weightedSum([r.h, r.c], seeds).backward()
        let lstm = try torch(["kind": "lstm_step", "inputs": [gates, c].map(encode), "seeds": seeds.map(encode)])
        let lstmOutputs = try #require(lstm["outputs"] as? [Any]), lstmGrads = try #require(lstm["grads"] as? [Any])
        #expect(agree(r.h.value, lstmOutputs[0], tolerance: 1e-12) && agree(r.c.value, lstmOutputs[1], tolerance: 1e-12))
        #expect(agree(g.grad!, lstmGrads[0], tolerance: 1e-12) && agree(cv.grad!, lstmGrads[1], tolerance: 1e-12))

        let xg = Tensor.randn([4, 9], dtype: .float64, generator: RandomGenerator(seed: 5)) * 2
        let hg = Tensor.randn([4, 9], dtype: .float64, generator: RandomGenerator(seed: 6)) * 2
        let h = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 7))
        let seed = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 8))
        let vs = [xg, hg, h].map { Variable($0, requiresGrad: true) }
        let y = gruCell(inputGates: vs[0], hiddenGates: vs[1], hidden: vs[2])
        y.backward(seed: seed)
        let gru = try torch(["kind": "gru_step", "inputs": [xg, hg, h].map(encode), "seeds": [encode(seed)]])
        #expect(agree(y.value, (gru["outputs"] as? [Any])?.first, tolerance: 1e-12))
        let gruGrads = try #require(gru["grads"] as? [Any])
        for (v, t) in zip(vs, gruGrads) { #expect(agree(v.grad!, t, tolerance: 1e-12)) }
    }
}
