import ArgumentParser
import Foundation
import NN
import ONNX

/// The `--export-onnx PATH` option of the examples: after training (or after loading a checkpoint), the model is
/// written as an ONNX file for onnxruntime and the other ONNX tools.
public struct ONNXExportOptions: ParsableArguments {
    @Option(name: .customLong("export-onnx"), help: "Also write the model as an ONNX file (opset 17) at this path.")
    public var path: String?

    public init() {}

    /// Writes `model` (in evaluation mode) to ``path`` when one was given, with the model input `input`; exits with
    /// the exporter's message when that fails.
    public func exportIfRequested(_ model: Module, input: ONNXInput, log: (String) -> Void = { print($0) }) {
        guard let path else { return }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        do {
            try ONNXExporter(opset: 17).export(model, input: input, to: URL(fileURLWithPath: path))
        } catch {
            exitWithError("\(error)")
        }
        log("wrote \(path) (ONNX, input \"\(input.name)\" \(input.shape) with a free batch axis, output \"output\")")
    }
}
