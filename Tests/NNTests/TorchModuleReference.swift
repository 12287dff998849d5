import Foundation
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
