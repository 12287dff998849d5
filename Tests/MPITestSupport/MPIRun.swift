import Foundation
import Testing

/// `mpirun` on the search path, or nil (the tests that need it are then skipped).
public let mpirunPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Why a test that needs `mpirun` was skipped.
public let mpirunMissing: Comment = "mpirun is not installed: scripts/setup.sh installs openmpi-bin and libopenmpi-dev"

/// What one `mpirun` job gave.
public struct MPIRunResult: Sendable {
    /// The exit status of `mpirun`: non-zero when a rank failed or was aborted.
    public let status: Int32
    /// Every rank's standard output, interleaved as `mpirun` forwarded it.
    public let output: String
    /// Every rank's standard error.
    public let errors: String
    public let seconds: Double
    /// Whether the job was killed for running past its timeout (it hung).
    public let timedOut: Bool
}

/// An executable built next to the running test binary (SwiftPM puts every product of the package in one directory).
public func builtProduct(_ name: String) throws -> URL {
    let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    try #require(FileManager.default.isExecutableFile(atPath: url.path), "\(name) not built next to the tests at \(url.path)")
    return url
}

/// Runs `executable` with `arguments` on `ranks` processes under `mpirun`, killing the job after `timeout` seconds.
/// Extra environment variables are passed to every rank.
public func mpirun(_ executable: URL, _ arguments: [String], ranks: Int = 2, timeout: Double = 120,
                   environment: [String: String] = [:]) throws -> MPIRunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(mpirunPath))
    // As root (CI containers) Open MPI refuses to start without --allow-run-as-root; two ranks may exceed the cores.
    process.arguments = ["--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)"]
        + environment.keys.sorted().flatMap { ["-x", $0] } + [executable.path] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let start = Date()
    try process.run()
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    // Read both pipes at once: a job that fills one while the other is read would block.
    nonisolated(unsafe) var err = Foundation.Data()
    let readErrors = DispatchWorkItem { err = errors.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(execute: readErrors)
    let out = output.fileHandleForReading.readDataToEndOfFile()
    readErrors.wait()
    process.waitUntilExit()
    killer.cancel()
    let seconds = Date().timeIntervalSince(start)
    return MPIRunResult(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                        errors: String(decoding: err, as: UTF8.self), seconds: seconds, timedOut: seconds >= timeout)
}

/// Runs this test binary under `mpirun`, each rank running only the test `test` with `environment` added: the way to
/// run code of an executable target (imported with `@testable`) on several ranks. The test should do nothing unless
/// the environment says it runs as a rank.
public func mpirunThisTest(_ test: String, ranks: Int = 2, timeout: Double = 600,
                           environment: [String: String]) throws -> MPIRunResult {
    let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return try mpirun(binary, ["--testing-library", "swift-testing", "--filter", test], ranks: ranks, timeout: timeout,
                      environment: environment)
}
