import Foundation
import Testing
@testable import NN

/// PyTorch evaluations for NN tests beyond ``TorchLayerReference``'s fixed layers: any module built from a Python
/// constructor expression (with its state dict going both ways), and any functional expression with its gradients.
/// Float64 numbers travel as strings (Swift's `description`, Python's `repr`), so they arrive exactly. Nil when torch
/// cannot be imported.
enum TorchModuleReference {
    /// Torch's module `constructor` (e.g. `"torch.nn.Conv1d(3, 4, 3)"`, built after `torch.manual_seed(seed)`), its
    /// state dict (after loading `state` strictly when given) and its output on `x`.
    static func module(_ constructor: String, x: Tensor, state: [String: Tensor]? = nil, seed: Int = 0) throws
        -> (state: [String: Tensor], output: Tensor)? {
        var request: [String: Any] = ["kind": "module", "constructor": constructor, "x": encode(x), "seed": seed]
        if let state { request["state"] = state.mapValues(encode) }
        guard let reply = try run(request) else { return nil }
        let dict = try (reply["state"] as? [String: Any] ?? [:]).mapValues(decode)
        return (dict, try decode(reply["output"] as Any))
    }

    /// Torch's value of `expression` over float64 inputs `x` (that require gradients) and the gradient of each
    /// input for the upstream gradient `seed`.
    static func function(_ expression: String, _ inputs: [Tensor], seed: Tensor) throws -> (output: Tensor, gradients: [Tensor])? {
        let request: [String: Any] = ["kind": "function", "expression": expression, "inputs": inputs.map(encode), "seed": encode(seed)]
        guard let reply = try run(request) else { return nil }
        return (try decode(reply["output"] as Any), try (reply["gradients"] as? [Any] ?? []).map(decode))
    }

    private static func run(_ request: [String: Any]) throws -> [String: Any]? {
        guard TorchLayerReference.isAvailable else { return nil }
        let (status, output) = TorchLayerReference.python(script: script, input: try JSONSerialization.data(withJSONObject: request))
        guard status == 0 else { throw TorchLayerReference.ReferenceError.failed(String(decoding: output, as: UTF8.self)) }
        return try JSONSerialization.jsonObject(with: output) as? [String: Any]
    }

    private static func encode(_ t: Tensor) -> [String: Any] { ["shape": t.shape, "values": t.doubles.map(\.description)] }

    private static func decode(_ any: Any) throws -> Tensor {
        guard let d = any as? [String: Any], let shape = d["shape"] as? [Int], let values = d["values"] as? [String] else {
            throw TorchLayerReference.ReferenceError.failed("not a tensor: \(any)")
        }
        return Tensor(shape: shape, scalars: values.map { Double($0)! })
    }

    private static let script = """
    import json, sys, torch
    torch.set_num_threads(1)
    r = json.load(sys.stdin)
    def tensor(d, dtype=torch.float64):
        return torch.tensor([float(v) for v in d["values"]], dtype=torch.float64).reshape(d["shape"]).to(dtype)
    def encode(t):
        t = t.detach().to(torch.float64)
        return {"shape": list(t.shape), "values": [repr(float(v)) for v in t.reshape(-1).tolist()]}
    if r["kind"] == "module":
        torch.manual_seed(r["seed"])
        m = eval(r["constructor"], {"torch": torch})
        if "state" in r:
            m.load_state_dict({k: tensor(v, torch.float32) for k, v in r["state"].items()}, strict=True)
        y = m(tensor(r["x"], torch.float32))
        out = {"state": {k: encode(v) for k, v in m.state_dict().items()}, "output": encode(y)}
    else:
        x = [tensor(d).requires_grad_(True) for d in r["inputs"]]
        y = eval(r["expression"], {"torch": torch, "x": x})
        grads = torch.autograd.grad(y, x, grad_outputs=tensor(r["seed"]), allow_unused=True)
        out = {"output": encode(y), "gradients": [encode(torch.zeros_like(a) if g is None else g) for a, g in zip(x, grads)]}
    json.dump(out, sys.stdout)
    """
}

/// Builds a PyTorch module from Python source, evaluates a call on given inputs, and returns its state dict and
/// outputs (float32), through `python3`; nil when torch is unavailable.
extension TorchModuleReference {
    struct Answer {
        var state: [String: Tensor]
        var keys: [String]
        var outputs: [Tensor]
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The reason printed by tests skipped for lack of torch.
    static let skipReason: Comment = "torch is not importable by python3: pip install torch==2.13.0+cpu"

    private static let moduleCallScript = """
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
        let (status, out) = TorchLayerReference.python(script: moduleCallScript, input: try JSONSerialization.data(withJSONObject: request))
        guard status == 0 else { throw Failure(description: String(decoding: out, as: UTF8.self)) }
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
