import AutoGrad
import Foundation
import Testing
@testable import ONNX

/// Checks exported files with the `onnx` checker (`full_check=True`) and runs them in onnxruntime (one thread),
/// all in one `python3` call. Nil answers when python3, onnx or onnxruntime are missing; tests that need them are
/// enabled with ``isAvailable``.
enum ONNXRuntimeReference {
    static let missing: Comment = "needs python3 with onnx and onnxruntime (pip install onnx onnxruntime)"

    static let isAvailable: Bool = python(script: "import onnx, onnxruntime", input: Data()).status == 0

    /// One file to check and run on one input.
    struct Case {
        var name: String
        var file: URL
        var input: Tensor
        var inputType: ONNXElementType = .float32
    }

    /// The output of each case by name, or the checker's or runtime's error message.
    static func run(_ cases: [Case]) throws -> [String: Result<Tensor, Failure>] {
        let request = cases.map { c in
            ["name": c.name, "path": c.file.path, "dtype": c.inputType == .int64 ? "int64" : "float32",
             "shape": c.input.shape, "values": c.input.doubles.map(\.description)] as [String: Any]
        }
        let (status, output) = python(script: script, input: try JSONSerialization.data(withJSONObject: request))
        guard status == 0 else { throw Failure(description: String(decoding: output, as: UTF8.self)) }
        let reply = try JSONSerialization.jsonObject(with: output) as? [String: [String: Any]] ?? [:]
        return reply.mapValues { answer in
            if let error = answer["error"] as? String { return .failure(Failure(description: error)) }
            let shape = answer["shape"] as? [Int] ?? [], values = (answer["values"] as? [String] ?? []).map { Double($0)! }
            return .success(Tensor(shape: shape, scalars: values))
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    private static let script = """
    import json, sys, numpy, onnx, onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    out = {}
    for c in json.load(open(sys.argv[1])):
        try:
            onnx.checker.check_model(c["path"], full_check=True)
            session = onnxruntime.InferenceSession(c["path"], options, providers=["CPUExecutionProvider"])
            x = numpy.array([float(v) for v in c["values"]]).astype(c["dtype"]).reshape(c["shape"])
            y = session.run(None, {session.get_inputs()[0].name: x})[0].astype(numpy.float64)
            out[c["name"]] = {"shape": list(y.shape), "values": [repr(float(v)) for v in y.reshape(-1)]}
        except Exception as e:
            out[c["name"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)
    """

    /// Runs `python3 -c script` with the request written to a file whose path is its one argument (so no pipe
    /// has to be fed while the other is drained); its standard output, or its standard error when it fails.
    private static func python(script: String, input: Data) -> (status: Int32, output: Data) {
        let request = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-request-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: request) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, request.path]
        let stdout = Pipe(), stderr = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-errors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stderr) }
        guard (try? input.write(to: request)) != nil, FileManager.default.createFile(atPath: stderr.path, contents: nil),
              let errors = try? FileHandle(forWritingTo: stderr) else { return (-1, Data()) }
        process.standardOutput = stdout
        process.standardError = errors
        do { try process.run() } catch { return (-1, Data()) }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errors.close()
        return (process.terminationStatus, process.terminationStatus == 0 ? output : (try? Data(contentsOf: stderr)) ?? Data())
    }
}
