import AutoGrad
import Foundation
import NN
import Testing
import Training
@testable import example_text

/// Whether `python3` can import onnx and onnxruntime (the checks of exported files run only then).
let onnxRuntimeIsImportable = (try? pythonOutput("import onnx, onnxruntime").status) == 0

/// The output of the ONNX file at `path` in onnxruntime, after `onnx.checker` (full check) accepted it, on one input
/// of `shape` with `values` as `dtype` (`"float32"` or `"int64"`), flattened.
func onnxRuntimeOutput(_ path: String, input: String, shape: [Int], values: [Double], dtype: String) throws -> [Double] {
    let (status, output) = try pythonOutput("""
        import numpy, onnx, onnxruntime
        onnx.checker.check_model("\(path)", full_check=True)
        session = onnxruntime.InferenceSession("\(path)", providers=["CPUExecutionProvider"])
        x = numpy.array([\(values.map(\.description).joined(separator: ","))]).astype("\(dtype)").reshape(\(shape))
        y = session.run(None, {"\(input)": x})[0]
        print(" ".join(repr(float(v)) for v in y.reshape(-1)))
        """)
    try #require(status == 0, "\(output)")
    return output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Expects onnxruntime's output `theirs` to be `ours` to 1e-5.
func expectClose(_ theirs: [Double], _ ours: Tensor, _ what: String) {
    #expect(theirs.count == ours.count, "\(what): \(theirs.count) values from onnxruntime, \(ours.count) ours")
    let worst = zip(ours.doubles, theirs).map { Swift.abs($0 - $1) }.max() ?? .infinity
    #expect(worst <= 1e-5, "\(what): largest difference between onnxruntime and our model \(worst)")
}

/// The `model.onnx` that `--export-onnx` wrote in `directory` gives, in onnxruntime, the logits of the
/// `model.safetensors` beside it, on a batch and length other than those it was exported with.
func expectONNXFileMatchesCheckpoint(directory: String) throws {
    let saved = try SafeTensors.read(from: URL(fileURLWithPath: directory + "/model.safetensors"))
    let lm: LanguageModel = try #require(GPTConfiguration(metadata: saved.metadata).map { GPT($0) } ?? CharLSTM(metadata: saved.metadata))
    _ = try lm.loadStateDict(saved.tensors)
    lm.eval()
    let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], shape = [3, 4]
    let ours = Graph.noGrad { lm.logits(TensorIndices(shape: shape, values: tokens)).value }
    let theirs = try onnxRuntimeOutput(directory + "/model.onnx", input: "tokens", shape: shape, values: tokens.map(Double.init),
                                       dtype: "int64")
    expectClose(theirs, ours, "\(lm.metadata["model"] ?? "") logits")
}
