import Foundation
import Testing
@testable import NN

/// A fresh path in a per-test temporary directory.
private func temporaryURL(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

/// The same model in PyTorch and here: every layer whose checkpoint names matter, one of each (with the containers).
final class CheckpointMixedModel: Module {
    let conv = Conv2d(2, 4, kernelSize: (3, 3), padding: 1)
    let bn2 = BatchNorm2d(4)
    let fc = Linear(4 * 4 * 4, 6)
    let bn1 = BatchNorm1d(6)
    let norm = LayerNorm(normalizedShape: [6])
    let embed = Embedding(numEmbeddings: 5, embeddingDim: 6)
    let heads = ModuleList(Linear(6, 6), Linear(6, 3))
    let branches = ModuleDict(["gn": GroupNorm(numGroups: 2, numChannels: 4), "proj": Linear(3, 3)])

    /// Images `[N, 2, 4, 4]` to `[N, 3]`.
    override func forward(_ x: Variable) -> Variable {
        let features = norm(bn1(fc(relu(bn2(branches["gn"]!(conv(x)))).flattened(startAxis: 1))))
        return branches["proj"]!(heads[1](relu(heads[0](features))))
    }

    static let torchDefinition = """
    import torch
    class CheckpointMixedModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
            self.bn2 = torch.nn.BatchNorm2d(4)
            self.fc = torch.nn.Linear(4 * 4 * 4, 6)
            self.bn1 = torch.nn.BatchNorm1d(6)
            self.norm = torch.nn.LayerNorm([6])
            self.embed = torch.nn.Embedding(5, 6)
            self.heads = torch.nn.ModuleList([torch.nn.Linear(6, 6), torch.nn.Linear(6, 3)])
            self.branches = torch.nn.ModuleDict({"gn": torch.nn.GroupNorm(2, 4), "proj": torch.nn.Linear(3, 3)})
        def forward(self, x):
            f = self.norm(self.bn1(self.fc(torch.relu(self.bn2(self.branches["gn"](self.conv(x)))).flatten(1))))
            return self.branches["proj"](self.heads[1](torch.relu(self.heads[0](f))))
    """
}

@Suite struct CheckpointCompatibilityTests {
    @Test func batchNormWritesPyTorchNamesAndAnIntegerCount() throws {
        let layer = BatchNorm1d(3)
        for seed in 0..<2 { _ = layer(Variable(Tensor.randn([4, 3], generator: RandomGenerator(seed: UInt64(seed))))) }
        let url = temporaryURL("bn.safetensors")
        try layer.save(to: url)
        let (stored, _) = try SafeTensors.readStored(from: url)
        #expect(Set(stored.keys) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(stored["num_batches_tracked"] == .integer(IntTensor(scalar: 2)))
        #expect(stored["running_mean"] == .float(layer.runningMean!))
        if case .float(let t)? = stored["running_var"] { #expect(t.dtype == .float32) } else { Issue.record("running_var is not floating-point") }
        // The float view of the same state shows the count as float64.
        #expect(layer.stateDict()["num_batches_tracked"] == Tensor(2.0, dtype: .float64))

        let copy = BatchNorm1d(3)
        try copy.load(from: url)
        #expect(copy.numBatchesTracked == 2 && copy.runningMean == layer.runningMean && copy.runningVar == layer.runningVar)
    }

    /// A file in the format this library wrote before the names were PyTorch's still loads, strictly.
    @Test func theOldNamesAndDTypesStillLoad() throws {
        let url = temporaryURL("old.safetensors")
        try SafeTensors.write([
            "bn.weight": Tensor([Float(2), 3]), "bn.bias": Tensor([Float(-1), 1]),
            "bn.runningMean": Tensor([Float(0.5), -0.25]), "bn.runningVar": Tensor([Float(1.5), 4]),
            "bn.numBatchesTracked": Tensor(7.0, dtype: .float64),
        ], to: url)
        final class Holder: Module { let bn = BatchNorm1d(2) }
        let model = Holder()
        try model.load(from: url)
        #expect(model.bn.runningMean == Tensor([Float(0.5), -0.25]) && model.bn.runningVar == Tensor([Float(1.5), 4]))
        #expect(model.bn.numBatchesTracked == 7 && model.bn.weight!.value == Tensor([Float(2), 3]))
        // Where both names are present the new one wins and the old one is unexpected.
        var both = model.stateDict()
        both["bn.runningMean"] = Tensor([Float(9), 9])
        #expect(throws: LoadStateDictError(missingKeys: [], unexpectedKeys: ["bn.runningMean"], shapeMismatches: [])) {
            try model.loadStateDict(both)
        }
    }

    @Test func anIntegerBufferRefusesFractionsAndLoadsWholeNumbers() throws {
        let layer = BatchNorm2d(2)
        var state = layer.stateDict()
        state["num_batches_tracked"] = Tensor(2.5, dtype: .float64)
        let error = #expect(throws: LoadStateDictError.self) { try layer.loadStateDict(state) }
        #expect(error?.nonIntegerValues == ["num_batches_tracked"])
        #expect(error?.description.contains("num_batches_tracked") == true)
        #expect(layer.numBatchesTracked == 0)
        state["num_batches_tracked"] = Tensor(Float(12))
        try layer.loadStateDict(state)
        #expect(layer.numBatchesTracked == 12)
        // Converting the module's dtype leaves the integer buffer alone.
        layer.to(.float64)
        #expect(layer.integerBuffer(named: "num_batches_tracked") == IntTensor(scalar: 12))
        #expect(layer.runningMean!.dtype == .float64)
    }

    /// A model trained here loads strictly into the same PyTorch model and gives the same output; a model
    /// trained in PyTorch loads strictly here and gives PyTorch's output.
    @Test(.enabled(if: TorchLayerReference.canExchangeSafetensors, "needs python3 with torch and safetensors"))
    func checkpointsMoveBothWaysWithPyTorch() throws {
        let ours = temporaryURL("ours.safetensors"), theirs = ours.deletingLastPathComponent().appendingPathComponent("theirs.safetensors")
        let generator = RandomGenerator(seed: 11)
        let model = CheckpointMixedModel()
        for _ in 0..<3 { _ = model(Variable(Tensor.randn([5, 2, 4, 4], generator: generator))) }   // move the running statistics
        model.eval()
        try model.save(to: ours)
        let x = Tensor.randn([3, 2, 4, 4], generator: generator)
        let tokens = IntTensor(shape: [2, 2], values: [4, 0, 1, 3])

        let script = CheckpointMixedModel.torchDefinition + """

        import json, sys
        from safetensors.torch import load_file, save_file
        r = json.load(sys.stdin)
        x = torch.tensor(r["x"], dtype=torch.float32).reshape(3, 2, 4, 4)
        tokens = torch.tensor(r["tokens"], dtype=torch.long).reshape(2, 2)
        ours = load_file(r["ours"])
        assert ours["bn2.num_batches_tracked"].dtype == torch.int64, ours["bn2.num_batches_tracked"].dtype
        m = CheckpointMixedModel()
        m.load_state_dict(ours, strict=True)
        m.eval()
        # The weights PyTorch initialises itself differ from ours: the match below is the loaded checkpoint's doing.
        out = {"ours_y": m(x).flatten().tolist(), "ours_e": m.embed(tokens).flatten().tolist(),
               "ours_count": int(m.bn1.num_batches_tracked)}
        torch.manual_seed(3)
        t = CheckpointMixedModel()
        for _ in range(4):
            t(torch.randn(5, 2, 4, 4))
        t.eval()
        save_file(t.state_dict(), r["theirs"])
        with torch.no_grad():
            out["theirs_y"] = t(x).flatten().tolist()
            out["theirs_e"] = t.embed(tokens).flatten().tolist()
        json.dump(out, sys.stdout)
        """
        let request = try JSONSerialization.data(withJSONObject: [
            "x": x.doubles, "tokens": tokens.values, "ours": ours.path, "theirs": theirs.path,
        ] as [String: Any])
        let (status, output) = TorchLayerReference.python(script: script, input: request)
        try #require(status == 0, "python failed: \(String(decoding: output, as: UTF8.self))")
        let answer = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        func values(_ key: String) -> [Double] { (answer[key] as? [Double]) ?? (answer[key] as? [NSNumber])?.map(\.doubleValue) ?? [] }
        func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 } }

        #expect(close(model(Variable(x)).value.doubles, values("ours_y")))
        #expect(close(model.embed(tokens).value.doubles, values("ours_e")))
        #expect(answer["ours_count"] as? Int == 3)

        let loaded = CheckpointMixedModel()
        try loaded.load(from: theirs)   // strict
        loaded.eval()
        #expect(loaded.bn2.numBatchesTracked == 4)
        #expect(close(loaded(Variable(x)).value.doubles, values("theirs_y")))
        #expect(close(loaded.embed(tokens).value.doubles, values("theirs_e")))
    }
}
