import Foundation
import Testing

/// Runs a Python script that imports torch and prints one JSON list of lists of numbers (as `repr` strings, so
/// that both sides read the identical `Double`); nil when `python3` cannot import torch. Tests that need it
/// carry `.enabled(if: TorchOptimReference.isAvailable, TorchOptimReference.skipReason)`.
enum TorchOptimReference {
    static let skipReason: Comment = "torch is not importable by python3: pip install torch==2.13.0+cpu"

    /// Whether `python3 -c "import torch"` succeeds (checked once per process).
    static let isAvailable: Bool = (try? run("import torch")) != nil

    /// The rows the script prints.
    static func rows(_ script: String) throws -> [[Double]] {
        let output = try run("import json, torch\ntorch.set_default_dtype(torch.float64)\n" + script)
        guard let rows = try JSONSerialization.jsonObject(with: output) as? [[String]] else {
            throw Failure(description: "unreadable reply: \(String(decoding: output, as: UTF8.self))")
        }
        return try rows.map { try $0.map { guard let v = Double($0) else { throw Failure(description: "not a number: \($0)") }; return v } }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func run(_ script: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 exited with \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        return out
    }
}
