import Testing
@testable import ONNX

// Every spelling from before the naming convention (Sources/ONNX/DeprecatedNames.swift) still compiles and gives
// what its new name gives; the old calls sit in a deprecated method reached through a protocol, as in
// AutoGradTests' DeprecatedNameTests, so that they warn nobody.

private protocol Spellings {
    func results(_ x: ONNXValue) -> [ONNXValue]
}

private struct Old: Spellings {
    @available(*, deprecated)
    func results(_ x: ONNXValue) -> [ONNXValue] {
        let graph = ONNXGraphBuilder(opset: 17, reservedNames: [x.name])
        return [graph.flatten(x, startDim: 1, endDim: -1), graph.flatten(x, startDim: 0, endDim: 1)]
    }
}

private struct New: Spellings {
    func results(_ x: ONNXValue) -> [ONNXValue] {
        let graph = ONNXGraphBuilder(opset: 17, reservedNames: [x.name])
        return [graph.flatten(x, startAxis: 1, endAxis: -1), graph.flatten(x, startAxis: 0, endAxis: 1)]
    }
}

@Test func deprecatedSpellingsGiveWhatTheirNewNamesGive() {
    let x = ONNXValue(name: "input", rank: 4)
    let spellings: [any Spellings] = [Old(), New()]
    let results = spellings.map { $0.results(x) }
    #expect(results[0] == results[1])
    #expect(results[1].map(\.rank) == [2, 3])
}
