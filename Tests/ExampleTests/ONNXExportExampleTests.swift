import AutoGrad
import Foundation
import NN
import Testing
import Training
@testable import example_text

/// Whether `python3` can import onnx and onnxruntime (the checks of exported files run only then).
let onnxRuntimeIsImportable = (try? pythonOutput("import onnx, onnxruntime").status) == 0

/// The `model.onnx` that `--export-onnx` wrote in `directory` passes `onnx.checker` and gives, in onnxruntime, the
/// logits of the `model.safetensors` beside it, on a batch and length other than those it was exported with.
func expectONNXFileMatchesCheckpoint(directory: String) throws {
    let saved = try SafeTensors.read(from: URL(fileURLWithPath: directory + "/model.safetensors"))
    let lm: LanguageModel = try #require(GPTConfiguration(metadata: saved.metadata).map { GPT($0) } ?? CharLSTM(metadata: saved.metadata))
    _ = try lm.loadStateDict(saved.tensors)
    lm.eval()
    let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], shape = [3, 4]
    let ours = Graph.noGrad { lm.logits(TensorIndices(shape: shape, values: tokens)).value }
    let (status, output) = try pythonOutput("""
        import numpy, onnx, onnxruntime
        onnx.checker.check_model("\(directory)/model.onnx", full_check=True)
        session = onnxruntime.InferenceSession("\(directory)/model.onnx", providers=["CPUExecutionProvider"])
        y = session.run(None, {"tokens": numpy.array(\(tokens), dtype=numpy.int64).reshape(\(shape))})[0]
        print(" ".join(repr(float(v)) for v in y.reshape(-1)))
        """)
    try #require(status == 0, "\(output)")
    let theirs = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    #expect(theirs.count == ours.count)
    let worst = zip(ours.doubles, theirs).map { Swift.abs($0 - $1) }.max() ?? .infinity
    #expect(worst <= 1e-5, "largest logit difference between onnxruntime and our model: \(worst)")
}
