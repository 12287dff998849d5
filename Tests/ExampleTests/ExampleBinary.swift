import Foundation
import Testing

/// Runs the example executable `name` built next to the tests; returns its exit status, standard output and standard
/// error.
func runExampleBinary(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(name) not built next to the tests at \(binary.path)")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

/// The environment variable that names the one test a child started by ``runTestInOwnProcess(_:)`` is to run.
let childTestVariable = "AUTOGRAD_EXAMPLE_TEST_CHILD"

/// Whether this process is the child started to run `test` (the condition of that test's `.enabled(if:)` trait).
func runsAsChild(_ test: String) -> Bool { ProcessInfo.processInfo.environment[childTestVariable] == test }

/// Runs this test binary again, only the test `test` (which is enabled by ``runsAsChild(_:)``), and returns its exit
/// status and output.
///
/// Resumed training is compared with an uninterrupted run bit for bit there, in a process of its own: with other tests
/// computing at the same time (and some changing `BLAS.threadCount`), matrix products may be split over threads
/// differently, which moves the last bits of a Float result, and training carries such differences far. Adam's first
/// step moves every weight by about ±lr whatever the size of its gradient, so a gradient that rounding flips in sign
/// moves a weight by 2·lr: no tolerance of rounding size would hold in a shared process.
func runTestInOwnProcess(_ test: String) throws -> (status: Int32, output: String) {
    try runCombiningOutput(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(),
                           ["--testing-library", "swift-testing", "--filter", test],
                           environment: ProcessInfo.processInfo.environment.merging([childTestVariable: test]) { $1 })
}

/// Runs `executable` with `arguments` (and `environment` when given, else this process's); returns its exit status and
/// its standard output and standard error together.
func runCombiningOutput(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws
    -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: text, as: UTF8.self))
}
