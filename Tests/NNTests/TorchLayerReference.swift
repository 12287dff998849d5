import Foundation

/// Runs PyTorch's own layers on given inputs, through `python3` with `torch` (JSON over stdin and stdout), so tests
/// can compare the layers here with the modules whose checkpoints they must share. ``run(_:)`` is nil when torch
/// cannot be imported; tests that need it are enabled with ``isAvailable``.
///
/// A request names the layer (`"LayerNorm"`, `"RMSNorm"`, `"Embedding"`), its constructor arguments, the parameter
/// values to load, the input and the output gradient to run backward with; the answer has the output (`y`), the
/// input gradient (`x_grad`, for the norms), the parameter gradients (`weight_grad`, `bias_grad`) and the module's
/// state-dict keys (`keys`). Every tensor travels as a flat list of numbers; float32 throughout.
enum TorchLayerReference {
    /// Whether `python3` can import torch (checked once).
    static let isAvailable: Bool = {
        let (status, _) = python(script: "import torch", input: Data())
        return status == 0
    }()

    /// Whether `python3` can also import the `safetensors` package, which tests that exchange checkpoint files with
    /// PyTorch need (it is not a dependency of torch; checked once).
    static let canExchangeSafetensors: Bool = isAvailable && python(script: "import safetensors.torch", input: Data()).0 == 0

    /// Torch's answer to `request` (see the type's discussion), or nil when torch is unavailable.
    static func run(_ request: [String: Any]) throws -> [String: Any]? {
        guard isAvailable else { return nil }
        let input = try JSONSerialization.data(withJSONObject: request)
        let (status, output) = python(script: script, input: input)
        guard status == 0 else { throw ReferenceError.failed(String(decoding: output, as: UTF8.self)) }
        return try JSONSerialization.jsonObject(with: output) as? [String: Any]
    }

    enum ReferenceError: Error { case failed(String) }

    private static let script = """
    import json, sys, torch
    r = json.load(sys.stdin)
    torch.set_default_dtype(torch.float32)
    kind = r["layer"]
    if kind == "LayerNorm":
        m = torch.nn.LayerNorm(r["normalized_shape"], eps=r["eps"], elementwise_affine=r["affine"], bias=r["bias"])
    elif kind == "RMSNorm":
        m = torch.nn.RMSNorm(r["normalized_shape"], eps=r["eps"], elementwise_affine=r["affine"])
    elif kind == "GroupNorm":
        m = torch.nn.GroupNorm(r["num_groups"], r["num_channels"], eps=r["eps"], affine=r["affine"])
    else:
        m = torch.nn.Embedding(r["num_embeddings"], r["embedding_dim"], padding_idx=r["padding_idx"])
    keys = list(m.state_dict().keys())
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.tensor(r[name], dtype=torch.float32).reshape(p.shape))
    if kind == "Embedding":
        x = torch.tensor(r["x"], dtype=torch.long).reshape(r["x_shape"])
    else:
        x = torch.tensor(r["x"], dtype=torch.float32).reshape(r["x_shape"]).requires_grad_(True)
    y = m(x)
    y.backward(torch.tensor(r["g"], dtype=torch.float32).reshape(y.shape))
    out = {"y": y.detach().flatten().tolist(), "y_shape": list(y.shape), "keys": keys}
    if kind != "Embedding":
        out["x_grad"] = x.grad.flatten().tolist()
    for name, p in m.named_parameters():
        out[name + "_grad"] = p.grad.flatten().tolist()
    json.dump(out, sys.stdout)
    """

    /// `script`'s JSON answer to `request` (the script reads JSON on stdin and writes JSON on stdout), or nil when
    /// torch is unavailable: for references computed by a formula written inline in a test.
    static func run(script: String, _ request: [String: Any]) throws -> [String: Any]? {
        guard isAvailable else { return nil }
        let (status, output) = python(script: script, input: try JSONSerialization.data(withJSONObject: request))
        guard status == 0 else { throw ReferenceError.failed(String(decoding: output, as: UTF8.self)) }
        return try JSONSerialization.jsonObject(with: output) as? [String: Any]
    }

    /// Runs `python3 -c script` with `input` on stdin; its exit status and stdout (stderr when it fails).
    static func python(script: String, input: Data) -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch { return (-1, Data()) }
        // The script reads all of stdin before it writes, and its stderr is a short traceback at most.
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationStatus == 0 ? output : errors)
    }
}
