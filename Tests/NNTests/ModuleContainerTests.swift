import Foundation
import Testing
@testable import NN

@Suite struct ModuleListTests {
    @Test func elementsAreNamedByPosition() {
        final class Tower: Module {
            let blocks = ModuleList(Linear(3, 3), ReLU(), Linear(3, 2))
            override func forward(_ x: Variable) -> Variable { blocks.reduce(x) { $1($0) } }
        }
        let tower = Tower()
        #expect(tower.namedParameters().map(\.name) == ["blocks.0.weight", "blocks.0.bias", "blocks.2.weight", "blocks.2.bias"])
        #expect(tower.blocks.namedChildren().map(\.name) == ["0", "1", "2"])
        #expect(tower.blocks.count == 3 && tower(Variable(Tensor.ones([1, 3]))).shape == [1, 2])
        #expect(tower.description.contains("(blocks): ModuleList"))
    }

    @Test func insertingAndRemovingRenumbers() {
        let a = Linear(2, 2), b = Linear(2, 2), c = Linear(2, 2)
        let list = ModuleList([a, c])
        list.insert(b, at: 1)
        #expect(list.map { ObjectIdentifier($0) } == [a, b, c].map { ObjectIdentifier($0) })
        #expect(list.stateDict()["1.weight"] == b.weight.value)
        #expect(list.remove(at: 0) === a)
        #expect(list.stateDict()["0.weight"] == b.weight.value && list.stateDict()["1.weight"] == c.weight.value)
        list[1] = a
        #expect(list[1] === a && list.parameters().count == 4)
        list.append(contentsOf: [Identity(), c])
        #expect(list.count == 4 && list.last === c && list.namedChildren().map(\.name) == ["0", "1", "2", "3"])
        list.append(Linear(2, 1))
        #expect(Set(list.stateDict().keys).contains("4.weight"))
    }

    @Test func stateDictsRoundTrip() throws {
        let source = ModuleList((0..<3).map { _ in Linear(4, 4) })
        let target = ModuleList((0..<3).map { _ in Linear(4, 4) })
        try target.loadStateDict(source.stateDict())
        for i in 0..<3 { #expect((target[i] as! Linear).weight.value == (source[i] as! Linear).weight.value) }
        // A list of another length does not fit, strictly.
        let shorter = ModuleList((0..<2).map { _ in Linear(4, 4) })
        let error = #expect(throws: LoadStateDictError.self) { try shorter.loadStateDict(source.stateDict()) }
        #expect(error?.unexpectedKeys == ["2.bias", "2.weight"])
    }
}

@Suite struct ModuleDictTests {
    @Test func entriesAreNamedByKeyInInsertionOrder() {
        let dict = ModuleDict(["encoder": Linear(3, 4), "act": ReLU(), "decoder": Linear(4, 3)])
        #expect(dict.keys == ["encoder", "act", "decoder"] && dict.count == 3)
        #expect(dict.namedParameters().map(\.name) == ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"])
        #expect(dict.map(\.key) == dict.keys && dict.values.count == 3)
        let x = Variable(Tensor.ones([2, 3]))
        #expect(dict["decoder"]!(dict["act"]!(dict["encoder"]!(x))).shape == [2, 3])
        #expect(dict["absent"] == nil)
    }

    @Test func replacingKeepsThePlaceAndNilRemoves() throws {
        let dict = ModuleDict(["a": Linear(2, 2), "b": Linear(2, 2)])
        let replacement = Linear(2, 2)
        dict["a"] = replacement
        #expect(dict.keys == ["a", "b"] && dict["a"] === replacement)
        dict["c"] = Linear(2, 1)
        dict["a"] = nil
        #expect(dict.keys == ["b", "c"] && Set(dict.stateDict().keys) == ["b.weight", "b.bias", "c.weight", "c.bias"])
        let copy = ModuleDict(["b": Linear(2, 2), "c": Linear(2, 1)])
        try copy.loadStateDict(dict.stateDict())
        #expect((copy["c"] as! Linear).weight.value == (dict["c"] as! Linear).weight.value)
    }
}
