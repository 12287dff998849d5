import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

/// Forward values and gradients computed by PyTorch (float64, CPU) on the same inputs, for tests that
/// compare an op with its PyTorch counterpart.
///
/// Each call starts one `python3` process, passes the cases as JSON on stdin and reads JSON results from
/// stdout. Numbers travel as strings (Swift's `description`, Python's `repr`/`float`), which both sides
/// parse back to the identical `Double`, infinities and NaN included. When `python3` cannot import torch,
/// ``run(_:)`` returns nil; tests that need it carry `.enabled(if: TorchReference.isAvailable, …)` so
/// they are reported as skipped with the reason instead of silently passing.
enum TorchReference {
    /// One evaluation: `expression` is Python over `x` (the inputs, float64 leaves that require a
    /// gradient), `c` (constant float64 tensors) and `torch`; its value is differentiated with `seed` as
    /// the upstream gradient.
    struct Case {
        var expression: String
        var inputs: [Tensor]
        var constants: [Tensor] = []
        var seed: Tensor
    }

    /// PyTorch's output and the gradient of each input (zeros where the output does not depend on it).
    struct Result {
        var output: Tensor
        var gradients: [Tensor]
    }

    /// The script failed (a Python exception, bad JSON): its standard error.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The reason printed by tests skipped for lack of torch.
    static let skipReason: Comment = "torch is not importable by python3: pip install torch==2.13.0+cpu"

    /// Whether `python3 -c "import torch"` succeeds (checked once per process).
    static let isAvailable: Bool = {
        guard let (status, _, _) = try? runPython(["-c", "import torch"], input: Data()) else { return false }
        return status == 0
    }()

    /// Runs every case in one Python process; nil when torch is not available.
    static func run(_ cases: [Case]) throws -> [Result]? {
        guard isAvailable else { return nil }
        let request: [[String: Any]] = cases.map { c in
            ["expression": c.expression, "inputs": c.inputs.map(encode), "constants": c.constants.map(encode),
             "seed": encode(c.seed)]
        }
        let input = try JSONSerialization.data(withJSONObject: request)
        let (status, out, err) = try runPython(["-c", script], input: input)
        guard status == 0 else {
            throw Failure(description: "python3 exited with \(status): \(String(decoding: err, as: UTF8.self))")
        }
        guard let results = try JSONSerialization.jsonObject(with: out) as? [[String: Any]], results.count == cases.count else {
            throw Failure(description: "unreadable reply: \(String(decoding: out, as: UTF8.self))")
        }
        return try results.map { r in
            guard let output = r["output"], let grads = r["gradients"] as? [Any] else {
                throw Failure(description: "reply lacks output or gradients: \(r)")
            }
            return Result(output: try decode(output), gradients: try grads.map(decode))
        }
    }

    // MARK: Implementation

    private static let script = #"""
import json, sys, torch
torch.set_num_threads(1)
def tensor(d, grad):
    t = torch.tensor([float(v) for v in d["values"]], dtype=torch.float64).reshape(d["shape"])
    return t.requires_grad_(grad)
def encode(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "values": [repr(float(v)) for v in t.reshape(-1).tolist()]}
results = []
for case in json.load(sys.stdin):
    x = [tensor(d, True) for d in case["inputs"]]
    c = [tensor(d, False) for d in case["constants"]]
    y = eval(case["expression"], {"torch": torch, "x": x, "c": c})
    grads = torch.autograd.grad(y, x, grad_outputs=tensor(case["seed"], False), allow_unused=True) if x else []
    grads = [torch.zeros_like(xi) if gi is None else gi for xi, gi in zip(x, grads)]
    results.append({"output": encode(y), "gradients": [encode(gi) for gi in grads]})
json.dump(results, sys.stdout)
"""#

    private static func encode(_ t: Tensor) -> [String: Any] {
        ["shape": t.shape, "values": t.doubles.map { $0.description }]
    }

    private static func decode(_ any: Any) throws -> Tensor {
        guard let d = any as? [String: Any], let shape = d["shape"] as? [Int], let strings = d["values"] as? [String] else {
            throw Failure(description: "not a tensor: \(any)")
        }
        let values = try strings.map { s in
            guard let v = Double(s) else { throw Failure(description: "not a number: \(s)") }
            return v
        }
        return Tensor(shape: shape, scalars: values, dtype: .float64)
    }

    /// Runs `python3` with `arguments`, writing `input` to its stdin; returns the exit status, stdout and stderr.
    private static func runPython(_ arguments: [String], input: Data) throws -> (Int32, Data, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Python reads all of stdin before it writes, and the requests are small, so writing first and
        // then draining stdout and stderr in turn cannot block on a full pipe.
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }
}

/// A PyTorch expression and the Swift function it is compared with, on the same inputs.
struct TorchComparison {
    var reference: TorchReference.Case
    var function: ([Variable]) -> Variable

    /// `seed` draws the upstream gradient (shape of the Swift output) from ``sample(_:_:seed:)``.
    init(_ expression: String, _ inputs: [Tensor], constants: [Tensor] = [], seed: UInt64,
         _ function: @escaping ([Variable]) -> Variable) {
        let shape = function(inputs.map { Variable($0) }).shape
        reference = TorchReference.Case(expression: expression, inputs: inputs, constants: constants,
                                        seed: sample(shape, .any, seed: seed))
        self.function = function
    }
}

/// Runs the comparisons through PyTorch in one process and checks each output and every input's gradient
/// (for the case's upstream gradient) to 1e-10, absolute and relative; each difference is an issue naming
/// the expression.
func compareWithTorch(_ comparisons: [TorchComparison], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let results = try #require(try TorchReference.run(comparisons.map(\.reference)), "torch is not available",
                               sourceLocation: sourceLocation)
    for (comparison, reference) in zip(comparisons, results) {
        let c = comparison.reference
        let xs = c.inputs.map { Variable($0, requiresGrad: true) }
        let y = comparison.function(xs)
        let grads = Graph.gradients(of: y, withRespectTo: xs, seed: c.seed).map(\.value)
        if let m = mismatch(y.value, reference.output, atol: 1e-10, rtol: 1e-10) {
            Issue.record("\(c.expression): forward differs from torch: \(m)", sourceLocation: sourceLocation)
        }
        #expect(grads.count == reference.gradients.count, sourceLocation: sourceLocation)
        for (i, (ours, theirs)) in zip(grads, reference.gradients).enumerated() {
            if let m = mismatch(ours, theirs, atol: 1e-10, rtol: 1e-10) {
                Issue.record("\(c.expression): gradient of x[\(i)] differs from torch: \(m)", sourceLocation: sourceLocation)
            }
        }
    }
}

/// The helper itself: known values come back exactly, special values survive the trip, and a Python
/// error is a thrown failure rather than a skipped or passing comparison.
@Suite(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
struct TorchReferenceTests {
    @Test func returnsOutputsAndGradientsExactly() throws {
        let x = Tensor([0.0, 1, -2.5])
        let seed = Tensor([1.0, 10, 100])
        let result = try #require(try TorchReference.run([
            .init(expression: "x[0] * x[1] + c[0]", inputs: [x, Tensor(3.0)], constants: [Tensor([.infinity, .nan, -0.0])], seed: seed),
        ]))
        #expect(mismatch(result[0].output, shape: [3], [.infinity, .nan, -7.5], atol: 0, rtol: 0) == nil)
        #expect(mismatch(result[0].gradients[0], shape: [3], [3, 30, 300], atol: 0, rtol: 0) == nil)
        #expect(mismatch(result[0].gradients[1], shape: [], [1 * 0 + 10 * 1 + 100 * -2.5], atol: 0, rtol: 0) == nil)
    }

    @Test func unusedInputsGetZeroGradients() throws {
        let result = try #require(try TorchReference.run([
            .init(expression: "x[0].exp()", inputs: [Tensor([0.0, 1]), Tensor(shape: [1, 2], scalars: [1.0, 2])], seed: Tensor([1.0, 1])),
        ]))
        #expect(mismatch(result[0].gradients[0], shape: [2], [1, Foundation.exp(1)], atol: 0, rtol: 1e-15) == nil)
        #expect(mismatch(result[0].gradients[1], shape: [1, 2], [0, 0], atol: 0, rtol: 0) == nil)
    }

    @Test func pythonErrorsThrow() {
        #expect(throws: TorchReference.Failure.self) {
            try TorchReference.run([.init(expression: "torch.no_such_function(x[0])", inputs: [Tensor([1.0])], seed: Tensor([1.0]))])
        }
    }
}
