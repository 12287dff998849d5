import Foundation
import Testing

/// `mpirun` on the search path, or nil (the tests that need it are then skipped).
let mpirunPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

let mpirunMissing: Comment = "mpirun is not installed: scripts/setup.sh installs openmpi-bin and libopenmpi-dev"

/// What one `mpirun` of `distributed-check` gave.
struct MPIRunResult {
    let status: Int32
    let output: String
    let errors: String
    let seconds: Double
    let timedOut: Bool
}

/// Runs `distributed-check` (built next to the tests) with `arguments` on `ranks` processes under `mpirun`, killing the
/// job after `timeout` seconds. Extra environment variables are passed to every rank.
func mpirunCheck(_ arguments: [String], ranks: Int = 2, timeout: Double = 120,
                 environment: [String: String] = [:]) throws -> MPIRunResult {
    let check = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("distributed-check")
    try #require(FileManager.default.isExecutableFile(atPath: check.path), "distributed-check not built next to the tests at \(check.path)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(mpirunPath))
    // As root (CI containers) Open MPI refuses to start without --allow-run-as-root; two ranks may exceed the cores.
    process.arguments = ["--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)"]
        + environment.keys.sorted().flatMap { ["-x", $0] } + [check.path] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let start = Date()
    try process.run()
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    let seconds = Date().timeIntervalSince(start)
    return MPIRunResult(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                        errors: String(decoding: err, as: UTF8.self), seconds: seconds, timedOut: seconds >= timeout)
}
