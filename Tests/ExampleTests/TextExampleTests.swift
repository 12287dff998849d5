import Data
import Foundation
import NN
import Testing
import Training
@testable import example_text

/// Runs the example-text binary built next to the tests.
private func runExample(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    try runExampleBinary("example-text", arguments)
}

private func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("example-text-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct TextExampleTests {
    static let tiny = GPTConfiguration(vocabularySize: 11, contextLength: 8, layers: 2, heads: 2, width: 16)

    /// W7's module tree under PyTorch's names, and its size with the tied head (no separate output matrix).
    @Test func gptHasPyTorchKeysAndW7Size() {
        let gpt = GPT(GPTConfiguration(vocabularySize: 113))
        let keys = Set(gpt.stateDict().keys)
        for key in ["wte.weight", "wpe.weight", "encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.3.linear2.bias",
                    "encoder.layers.3.norm2.weight", "encoder.norm.weight", "encoder.norm.bias"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        // Per layer: attention 4·128² + 4·128, MLP 2·4·128² + 4·128 + 128, two norms 4·128; then embeddings and a norm.
        let perLayer = 4 * 128 * 128 + 4 * 128 + 8 * 128 * 128 + 5 * 128 + 4 * 128
        #expect(gpt.parameterCount == 4 * perLayer + 113 * 128 + 64 * 128 + 2 * 128)
        #expect(GPTConfiguration(metadata: gpt.metadata) == gpt.configuration)
        #expect(GPTConfiguration(metadata: ["model": "lstm"]) == nil)
    }

    /// W8: PyTorch's keys for an Embedding, a 2-layer LSTM and a Linear head; generation carries the state.
    @Test func lstmHasPyTorchKeysAndW8Size() {
        let lstm = CharLSTM(vocabularySize: 113)
        #expect(Set(lstm.stateDict().keys) == ["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                               "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1",
                                               "lstm.bias_hh_l1", "head.weight", "head.bias"])
        #expect(lstm.parameterCount == 113 * 128 + 2 * (2 * 4 * 128 * 128 + 2 * 4 * 128) + 128 * 113 + 113)
        #expect(CharLSTM(metadata: lstm.metadata)?.metadata == lstm.metadata)
        // Stepping with the carried state gives the logits of the whole sequence.
        let tokens = [3, 1, 4, 1, 5]
        let full = lstm.logits(TensorIndices(shape: [1, 5], values: tokens)).value
        let first = lstm.logits(TensorIndices(shape: [1, 3], values: Array(tokens[0..<3])), state: nil)
        let rest = lstm.logits(TensorIndices(shape: [1, 2], values: Array(tokens[3...])), state: first.state)
        let stepped = Tensor.concatenate([first.logits.value, rest.logits.value], axis: 1)
        #expect(zip(stepped.doubles, full.doubles).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    /// Generation with the key/value cache gives the logits of the whole sequence run at once.
    @Test func cachedDecodingMatchesTheFullSequence() {
        let gpt = GPT(Self.tiny, generator: RandomGenerator(seed: 3))
        let tokens = [1, 5, 2, 9, 9, 0]
        let full = gpt.logits(TensorIndices(shape: [1, 6], values: tokens)).value
        let caches = gpt.encoder.makeCaches()
        var rows = [gpt.logits(next: TensorIndices(shape: [1, 3], values: Array(tokens[0..<3])), caches: caches).value]
        for t in 3..<6 { rows.append(gpt.logits(next: TensorIndices(shape: [1, 1], values: [tokens[t]]), caches: caches).value) }
        let stepped = Tensor.concatenate(rows, axis: 1)
        #expect(stepped.shape == full.shape)
        #expect(zip(stepped.doubles, full.doubles).allSatisfy { Swift.abs($0 - $1) < 1e-4 })
        // Past the context the caches restart; generation keeps going and stays in the vocabulary.
        let generated = gpt.generate(after: [1, 2], count: 20) { logits in logits.indices.max { logits[$0] < logits[$1] }! }
        #expect(generated.count == 20 && generated.allSatisfy { (0..<11).contains($0) })
    }

    @Test func badTextGivesAClearMessageAndFailure() throws {
        let dir = try temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let invalid = dir.appendingPathComponent("latin1.txt"), empty = dir.appendingPathComponent("empty.txt")
        let short = dir.appendingPathComponent("short.txt")
        try Foundation.Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: invalid)   // "café" in Latin-1
        try Foundation.Data().write(to: empty)
        try Foundation.Data("just a few words\n".utf8).write(to: short)
        let out = dir.appendingPathComponent("out").path
        for (file, message) in [(dir.appendingPathComponent("absent.txt").path, "file not found"),
                                (invalid.path, "not valid UTF-8 text: bad byte at offset 3"),
                                (empty.path, "empty file"),
                                (short.path, "text too short")] {
            let result = try runExample(["--text", file, "--output-dir", out, "--steps", "1"])
            #expect(result.status != 0, "\(file)")
            #expect(result.errors.contains(message) && result.errors.contains(file), "\(result.errors)")
        }
        let missing = try runExample(["--text", short.path, "--tokenizer", "bpe", "--vocab-size", "100", "--output-dir", out])
        #expect(missing.status != 0 && missing.errors.contains("--vocab-size must be at least 256"))
    }

    /// A few steps on a small text, then generation from the checkpoint and tokenizer it wrote, for both tokenizers.
    @Test(arguments: [("gpt", "chars"), ("gpt", "bpe"), ("lstm", "chars")])
    func trainsSavesAndGeneratesFromTheCheckpoint(model: String, tokenizer: String) throws {
        let dir = try temporaryDirectory(model + "-" + tokenizer)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("text.txt")
        try Foundation.Data(String(repeating: "The quick brown fox jumps over the lazy dog. Naïve café!\n", count: 12).utf8).write(to: text)
        let out = dir.appendingPathComponent("out").path
        let train = try runExample(["--model", model, "--text", text.path, "--tokenizer", tokenizer, "--vocab-size", "280", "--steps", "3",
                                    "--batch-size", "2", "--context", "8", "--eval-every", "2", "--sample-tokens", "5",
                                    "--output-dir", out, "--threads", "1", "--export-onnx", out + "/model.onnx"])
        #expect(train.status == 0, "\(train.errors)")
        if onnxRuntimeIsImportable { try expectONNXFileMatchesCheckpoint(directory: out) }
        #expect(train.output.contains("validation loss") && train.output.contains("tokens/s"))
        for file in ["model.safetensors", "tokenizer.json", "losses.png"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let generated = try runExample(["--generate", "12", "--checkpoint", out + "/model.safetensors", "--prompt", "The", "--top-k", "3"])
        #expect(generated.status == 0, "\(generated.errors)")
        #expect(generated.output.contains("12 tokens in") && generated.output.contains("The"))
    }

    /// A run stopped after its step-2 set and resumed ends where an uninterrupted run ends, byte for byte (one thread in
    /// a process of its own, so no other test changes how the products are split); a set from another configuration
    /// is refused.
    @Test func resumeContinuesTheRunExactly() throws {
        let dir = try temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("text.txt")
        try Foundation.Data(String(repeating: "It was the best of times, it was the worst of times.\n", count: 12).utf8).write(to: text)
        func arguments(_ out: String) -> [String] {
            ["--text", text.path, "--steps", "4", "--batch-size", "2", "--context", "8", "--eval-every", "2", "--warmup", "1",
             "--sample-tokens", "0", "--output-dir", dir.appendingPathComponent(out).path, "--threads", "1"]
        }
        let whole = try runExample(arguments("whole"))
        #expect(whole.status == 0, "\(whole.errors)")
        let first = try runExample(arguments("resumed"))
        #expect(first.status == 0, "\(first.errors)")
        let resumedDir = dir.appendingPathComponent("resumed")
        // As if killed after step 2's set: the step-4 set and the final outputs are gone.
        let last = try #require(CheckpointDirectory.latestComplete(in: resumedDir.appendingPathComponent("checkpoints")))
        #expect(last.step == 4)
        try FileManager.default.removeItem(at: last.url)
        try FileManager.default.removeItem(at: resumedDir.appendingPathComponent("model.safetensors"))
        let resumed = try runExample(arguments("resumed") + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(resumed.output.contains("(step 2 of 4)"), "\(resumed.output)")
        let a = try Foundation.Data(contentsOf: dir.appendingPathComponent("whole/model.safetensors"))
        let b = try Foundation.Data(contentsOf: resumedDir.appendingPathComponent("model.safetensors"))
        #expect(a == b, "the resumed run's model differs from the uninterrupted run's")

        let other = try runExample(arguments("resumed") + ["--resume", "--lr", "0.01"])
        #expect(other.status != 0)
        #expect(other.errors.contains("cannot resume") && other.errors.contains("lr"), "\(other.errors)")
    }

    /// A saved GPT loads strictly into the PyTorch module of `Benchmarks/pytorch/text_models.py` (the reference the
    /// validation losses are compared with) and gives the same logits to 1e-5.
    @Test(.enabled(if: torchIsImportable(), "torch is not importable by python3: pip install torch==2.13.0+cpu"))
    func savedGPTGivesPyTorchsLogits() throws {
        let dir = try temporaryDirectory("torch-gpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let configuration = GPTConfiguration(vocabularySize: 11, contextLength: 8, layers: 2, heads: 2, width: 16)
        let gpt = GPT(configuration, generator: RandomGenerator(seed: 5))
        gpt.eval()
        let file = dir.appendingPathComponent("model.safetensors")
        try gpt.save(to: file, metadata: gpt.metadata)
        let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7]
        let ours = gpt.logits(TensorIndices(shape: [2, 7], values: tokens)).value
        let script = Self.torchLogitsScript(module: Self.textModelsPath, file: file.path, tokens: tokens, shape: [2, 7])
        let (status, output) = try pythonOutput(script)
        #expect(status == 0, "\(output)")
        let theirs = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(theirs.count == ours.count)
        let worst = zip(ours.doubles, theirs).map { Swift.abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest logit difference \(worst)")
    }

    static let textModelsPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Benchmarks/pytorch/text_models.py").path

    /// Python that reads the safetensors file by hand (F32 only, as the example writes), builds the reference GPT of
    /// the test's sizes, loads the state dict strictly and prints the logits.
    static func torchLogitsScript(module: String, file: String, tokens: [Int], shape: [Int]) -> String {
        """
        import importlib.util, json, struct, torch
        spec = importlib.util.spec_from_file_location("text_models", "\(module)")
        tm = importlib.util.module_from_spec(spec); spec.loader.exec_module(tm)
        raw = open("\(file)", "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
        sd = {}
        for k, v in header.items():
            if k == "__metadata__": continue
            assert v["dtype"] == "F32", v["dtype"]
            a, b = v["data_offsets"]
            sd[k] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(v["shape"])
        m = tm.GPT(11, context=8, layers=2, heads=2, width=16).eval()
        m.load_state_dict(sd, strict=True)
        with torch.no_grad():
            y = m(torch.tensor(\(tokens)).reshape(\(shape)))
        print(" ".join(repr(float(v)) for v in y.reshape(-1).tolist()))
        """
    }
}

/// Whether `python3` can import torch (the PyTorch cross-checks run only then).
private func torchIsImportable() -> Bool {
    (try? pythonOutput("import torch").status) == 0
}

/// Runs `python3 -c script`; returns its exit status and standard output followed by standard error.
func pythonOutput(_ script: String) throws -> (status: Int32, output: String) {
    try runCombiningOutput(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script])
}
