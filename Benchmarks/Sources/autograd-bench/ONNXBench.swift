import ArgumentParser
import AutoGrad
import Foundation
import NN
import ONNX

/// `autograd-bench onnx`: the W2 CNN exported to ONNX and timed in onnxruntime (Benchmarks/onnx/latency.py) beside
/// our own inference of the same model, both on one thread.
struct ONNXBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Inference latency of the W2 CNN: ours beside onnxruntime on the exported file, one thread each.",
        discussion: "Needs python3 with onnxruntime (pip install onnx onnxruntime). Median ms per forward pass."
    )

    @Option(help: "Batch sizes to time.") var batches = "1,64"
    @Option(help: "Timed calls per batch size (after a tenth as many untimed).") var samples = 200
    @Option(help: "Python interpreter with onnxruntime.") var python = "python3"

    func run() throws {
        let sizes = threadCountList(batches)
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }), samples > 0 else {
            throw ValidationError("--batches must list positive sizes and --samples be positive")
        }
        guard let interpreter = TorchRunner.which(python) else { throw ValidationError("\(python) is not on PATH") }
        BLAS.threadCount = 1
        let model = Workload.w2Model()
        model.eval()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("w2-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: file) }
        try ONNXExporter(opset: 17).export(model, input: ONNXInput(shape: [1, 1, 28, 28]), to: file)

        var ours: [Int: Double] = [:]
        for batch in sizes {
            let x = Variable(Tensor.rand([batch, 1, 28, 28], generator: RandomGenerator(seed: 0)))
            let times = sortedDurations(of: { _ = Graph.noGrad { model(x) } }, warmup: samples / 10 + 1, samples: samples)
            ours[batch] = times[times.count / 2] * 1e3
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../onnx/latency.py").standardized
        let reply = try runProcess(interpreter, [script.path, file.path, "--shape", "1,28,28", "--batches", batches,
                                                 "--samples", "\(samples)"])
        let theirs = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Double] ?? [:]
        print("W2 CNN inference, 1 thread, median ms per forward (\(samples) samples); CPU: \(cpuModel())")
        print("| batch | swift-autograd ms | onnxruntime ms | ratio ours/onnxruntime |")
        print("|---|---|---|---|")
        for batch in sizes {
            let o = ours[batch]!, t = theirs["\(batch)"] ?? .nan
            print(String(format: "| %d | %.3f | %.3f | %.2f |", batch, o, t, o / t))
        }
    }
}
