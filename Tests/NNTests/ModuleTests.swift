import Foundation
import Testing
@testable import NN

/// A custom module written as the documentation says: wrappers, submodules, an array, a buffer.
private final class Block: Module {
    @Parameter var scale: Variable
    let fc1 = Linear(4, 3)
    let fc2 = Linear(3, 2, bias: false)
    @Buffer var runningMean: Tensor = Tensor.zeros([2])
    let heads: [Module] = [Linear(2, 2), Identity()]
    let optionalLayer: Linear? = nil

    override init() {
        scale = Variable(Tensor.ones([4]))
        super.init()
    }

    override func forward(_ x: Variable) -> Variable { heads[0](fc2(relu(fc1(x * scale)))) }
}

/// A module whose members are registered at run time.
private final class Dynamic: Module {
    init(layers: Int) {
        super.init()
        for i in 0..<layers { registerModule("layer\(i)", Linear(2, 2)) }
        registerParameter("gain", Variable(Tensor.ones([1])))
        registerBuffer("steps", Tensor.zeros([]))
    }
}

/// The example of the DocC catalog, kept compiling and correct here.
private final class ResidualBlock: Module {
    let fc1: Linear
    let fc2: Linear
    @Parameter var gate: Variable
    @Buffer var calls: Tensor = Tensor.zeros([])

    init(width: Int) {
        fc1 = Linear(width, width)
        fc2 = Linear(width, width)
        gate = Variable(Tensor.zeros([1]))
        super.init()
    }

    override func forward(_ x: Variable) -> Variable {
        if isTraining { calls = calls + 1 }
        return x + fc2(gelu(fc1(x))) * gate
    }
}

/// Subclass members come after the superclass's.
private class Base: Module {
    let first = Linear(2, 2)
}

private final class Derived: Base {
    @Parameter var extra: Variable = Variable(Tensor.ones([2]))
    let second = Linear(2, 2, bias: false)
}

@Suite struct ModuleTests {
    @Test func theDocumentationExampleWorks() {
        let block = ResidualBlock(width: 4)
        #expect(block.namedParameters().map(\.name) == ["gate", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        let x = Variable(Tensor.randn([3, 4]))
        #expect(block(x).value == x.value)   // the gate starts closed
        block.eval()
        _ = block(x)
        #expect(block.calls.item == 1)
        #expect(block.stateDict()["calls"]!.item == 1)
    }

    @Test func superclassMembersComeFirst() {
        #expect(Derived().namedParameters().map(\.name) == ["extra", "first.weight", "first.bias", "second.weight"])
        #expect(Derived().namedChildren().map(\.name) == ["first", "second"])
    }

    @Test func parametersAreNamedInDeclarationOrder() {
        let block = Block()
        #expect(block.namedParameters().map(\.name) == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "heads.0.weight", "heads.0.bias"])
        #expect(block.namedBuffers().map(\.name) == ["runningMean"])
        #expect(block.namedChildren().map(\.name) == ["fc1", "fc2", "heads.0", "heads.1"])
        #expect(block.namedModules().map(\.name) == ["", "fc1", "fc2", "heads.0", "heads.1"])
        #expect(block.parameters().allSatisfy { $0.requiresGrad })
        #expect(block.parameterCount == 4 + 12 + 3 + 6 + 4 + 2)
        // The order is stable from call to call.
        #expect(block.parameters().map { ObjectIdentifier($0) } == block.parameters().map { ObjectIdentifier($0) })
    }

    @Test func nestedNamesAreDotted() {
        let model = Sequential(Sequential(Linear(2, 3), ReLU()), Block())
        let names = model.namedParameters().map(\.name)
        #expect(names.prefix(3) == ["0.0.weight", "0.0.bias", "1.scale"])
        #expect(names.contains("1.fc1.bias"))
        #expect(model.stateDict().keys.contains("1.runningMean"))
    }

    @Test func registeredMembersFollowReflectedOnes() {
        let m = Dynamic(layers: 2)
        // A module's own parameters come before its submodules', as in PyTorch's named_parameters.
        #expect(m.namedParameters().map(\.name) == ["gain", "layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias"])
        #expect(m.namedChildren().map(\.name) == ["layer0", "layer1"])
        #expect(m.parameter(named: "gain")!.shape == [1])
        #expect(m.buffer(named: "steps")! == Tensor.zeros([]))
        m.setBuffer(named: "steps", to: Tensor(Float(3)))
        #expect(m.stateDict()["steps"]! == Tensor(Float(3)))
    }

    @Test func aSharedParameterIsListedOnce() {
        let encoder = Linear(3, 3), decoder = Linear(3, 3)
        decoder.weight = encoder.weight
        let model = Sequential(encoder, decoder)
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "1.bias"])
        // The state dictionary names it under both keys, as PyTorch does, and loading sets it once.
        #expect(Set(model.stateDict().keys) == ["0.weight", "0.bias", "1.weight", "1.bias"])
        // A shared submodule is visited once too.
        let twice = Sequential(encoder, encoder)
        #expect(twice.parameters().count == 2)
        #expect(twice.modules().count == 2)
    }

    @Test func trainAndEvalRecurse() {
        let model = Sequential(Linear(2, 2), Sequential(Dropout(p: 0.5), ReLU()))
        #expect(model.modules().allSatisfy { $0.isTraining })
        model.eval()
        #expect(model.modules().allSatisfy { !$0.isTraining })
        model.train()
        #expect(model.modules().allSatisfy { $0.isTraining })
        model[1].eval()
        #expect(model.isTraining && model[0].isTraining && !model[1].isTraining && !(model[1] as! Sequential)[0].isTraining)
    }

    @Test func zeroGradClearsEveryParameter() {
        let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
        model(Variable(Tensor.randn([4, 3]))).sum().backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        model.zeroGrad()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test func stateDictRoundTripRestoresOutputs() throws {
        let g = RandomGenerator(seed: 3)
        let a = Sequential(Linear(4, 4, generator: g), Block())
        let b = Sequential(Linear(4, 4, generator: g), Block())
        let x = Variable(Tensor.randn([5, 4], generator: g))
        #expect(a(x).value != b(x).value)
        let keptWeight = b.parameters()[0]
        try b.loadStateDict(a.stateDict())
        #expect(a(x).value == b(x).value)
        #expect(b.parameters()[0] === keptWeight)   // identity kept for optimisers
        #expect(b.stateDict() == a.stateDict())
        // The dictionary is a snapshot.
        let snapshot = a.stateDict()
        a.parameters()[0].value = Tensor.zeros([4, 4])
        #expect(snapshot["0.weight"]! != a.stateDict()["0.weight"]!)
    }

    @Test func loadingConvertsDTypeToTheModules() throws {
        let m = Linear(2, 2)
        try m.loadStateDict(["weight": Tensor.ones([2, 2], dtype: .float64), "bias": Tensor.zeros([2], dtype: .float64)])
        #expect(m.weight.dtype == .float32)
        #expect(m.weight.value == Tensor.ones([2, 2]))
    }

    @Test func loadStateDictReportsMissingUnexpectedAndShapes() throws {
        let m = Linear(3, 2)
        let before = m.stateDict()
        var dict = m.stateDict()
        dict["bias"] = nil
        dict["extra"] = Tensor.zeros([1])
        dict["weight"] = Tensor.zeros([3, 2])
        let error = try #require(throws: LoadStateDictError.self) { try m.loadStateDict(dict) }
        #expect(error.missingKeys == ["bias"])
        #expect(error.unexpectedKeys == ["extra"])
        #expect(error.shapeMismatches == [.init(key: "weight", expected: [2, 3], found: [3, 2])])
        #expect(error.description.contains("\"weight\"") && error.description.contains("[2, 3]") && error.description.contains("[3, 2]"))
        #expect(m.stateDict() == before)   // nothing changed

        // Non-strict: missing and unexpected keys are returned, shapes still checked.
        let result = try m.loadStateDict(["weight": Tensor.ones([2, 3]), "extra": Tensor.zeros([1])], strict: false)
        #expect(result == LoadStateDictResult(missingKeys: ["bias"], unexpectedKeys: ["extra"]))
        #expect(m.weight.value == Tensor.ones([2, 3]))
        #expect(throws: LoadStateDictError.self) { try m.loadStateDict(["weight": Tensor.ones([1])], strict: false) }

        let missingOnly = try #require(throws: LoadStateDictError.self) { try m.loadStateDict(["weight": Tensor.ones([2, 3])]) }
        #expect(missingOnly.missingKeys == ["bias"] && missingOnly.unexpectedKeys.isEmpty && missingOnly.shapeMismatches.isEmpty)
    }

    @Test func saveAndLoadThroughSafetensors() throws {
        let url = temporaryFile("model.safetensors")
        let a = Block(), b = Block()
        a.runningMean = Tensor([Float(1), 2])
        try a.save(to: url, metadata: ["epoch": "2"])
        let metadata = try b.load(from: url)
        #expect(metadata == ["epoch": "2"])
        #expect(b.stateDict() == a.stateDict())
        #expect(b.runningMean == Tensor([Float(1), 2]))
        // A file for another model fails with the key named.
        let error = try #require(throws: LoadStateDictError.self) { try Linear(4, 3).load(from: url) }
        #expect(error.unexpectedKeys.contains("fc1.weight"))
        #expect(throws: SafeTensorsError.fileNotFound(path: url.path + ".missing")) {
            try b.load(from: URL(fileURLWithPath: url.path + ".missing"))
        }
    }

    @Test func toDTypeConvertsParametersAndBuffers() {
        let block = Block()
        let weight = block.fc1.weight
        block.to(.float64)
        #expect(block.parameters().allSatisfy { $0.dtype == .float64 })
        #expect(block.runningMean.dtype == .float64)
        #expect(block.fc1.weight === weight)
    }

    @Test func descriptionShowsTheTree() {
        let model = Sequential(Linear(2, 3), ReLU())
        #expect(model.description == "Sequential(\n  (0): Linear(in: 2, out: 3, bias: true)\n  (1): ReLU\n)")
    }

    @Test func sequentialBuilderAndAppend() {
        let useDropout = true
        let model = Sequential {
            Linear(2, 4)
            if useDropout { Dropout(p: 0.1) }
            for _ in 0..<2 { Tanh() }
        }
        #expect(model.count == 4)
        model.append(Linear(4, 1))
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "4.weight", "4.bias"])
        #expect(model(Variable(Tensor.ones([3, 2]))).shape == [3, 1])
    }
}
