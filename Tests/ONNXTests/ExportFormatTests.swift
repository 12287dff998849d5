import AutoGrad
import Foundation
import NN
import SwiftProtobuf
import Testing
@testable import ONNX

/// The written file read back with the generated messages (no python needed), and the errors of what cannot be
/// exported.
@Suite struct ExportFormatTests {
    @Test func writtenFileParsesBackWithNamedParametersAndDynamicBatch() throws {
        let model = Sequential(Conv2d(1, 2, kernelSize: 3), ReLU(), Flatten(), Linear(2 * 4 * 4, 3))
        let directory = try temporaryDirectory("format")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("cnn.onnx")
        try ONNXExporter(opset: 18).export(model, input: ONNXInput(name: "image", shape: [1, 1, 6, 6]), outputName: "logits", to: url)

        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        #expect(proto.opsetImport.map(\.version) == [18])
        #expect(proto.graph.node.map(\.opType) == ["Conv", "Relu", "Flatten", "Gemm"])
        #expect(proto.graph.input.map(\.name) == ["image"] && proto.graph.output.map(\.name) == ["logits"])
        #expect(proto.graph.input[0].type.tensorType.shape.dim.map(\.dimParam) == ["batch", "", "", ""])
        #expect(proto.graph.input[0].type.tensorType.shape.dim.map(\.dimValue) == [0, 1, 6, 6])
        let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
        #expect(Set(initializers.keys) == Set(model.namedParameters().map(\.name)))
        let weight = try #require(initializers["0.weight"])
        #expect(weight.dims == [2, 1, 3, 3])
        let stored = weight.rawData.withUnsafeBytes { raw in (0..<18).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        #expect(stored == (model[0] as! Conv2d).weight.value.floats)
        #expect(proto.graph.node.last?.output == ["logits"])
    }

    @Test func unsupportedModuleIsNamedWithItsPath() throws {
        final class Custom: Module {
            override func forward(_ x: Variable) -> Variable { x * 2 }
        }
        let model = Sequential(Linear(3, 3), Sequential(ReLU(), Custom()))
        #expect(throws: ONNXExportError.unsupportedModule(type: "Custom", path: "1.1")) {
            try ONNXExporter().serializedModel(model, input: ONNXInput(shape: [1, 3]))
        }
        let message = "\(ONNXExportError.unsupportedModule(type: "Custom", path: "1.1"))"
        #expect(message.contains("Custom") && message.contains("\"1.1\"") && message.contains("ONNXExportable"))
    }

    @Test func unsupportedSettingsAndInputsAreTypedErrors() throws {
        let exporter = try ONNXExporter()
        #expect(throws: ONNXExportError.self) { try exporter.serializedModel(AvgPool2d(kernelSize: 2, divisorOverride: 3), input: ONNXInput(shape: [1, 1, 4, 4])) }
        #expect(throws: ONNXExportError.invalidInput(type: "Conv2d", path: "0", reason: "rank 2, expected [N, 1, H, W]")) {
            try exporter.serializedModel(Sequential(Conv2d(1, 2, kernelSize: 3)), input: ONNXInput(shape: [1, 9]))
        }
        #expect(throws: ONNXExportError.self) {
            try exporter.serializedModel(BatchNorm1d(3, trackRunningStats: false), input: ONNXInput(shape: [1, 3]))
        }
        #expect(throws: ONNXExportError.self) { try ONNXExporter(opset: 12) }
        #expect(throws: ONNXExportError.self) { try exporter.serializedModel(Linear(2, 2), input: ONNXInput(shape: [0, 2])) }
    }

    @Test func failedWriteKeepsTheEarlierFile() throws {
        let directory = try temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.onnx")
        try ONNXExporter().export(Linear(2, 2), input: ONNXInput(shape: [1, 2]), to: url)
        let before = try Data(contentsOf: url)
        #expect(throws: ONNXExportError.self) { try ONNXExporter().export(Sequential(Linear(2, 2), Custom2()), input: ONNXInput(shape: [1, 2]), to: url) }
        #expect(try Data(contentsOf: url) == before)
        #expect(throws: ONNXExportError.self) {
            try ONNXExporter().export(Linear(2, 2), input: ONNXInput(shape: [1, 2]), to: directory.appendingPathComponent("missing/model.onnx"))
        }
    }
}

private final class Custom2: Module {
    override func forward(_ x: Variable) -> Variable { x }
}
