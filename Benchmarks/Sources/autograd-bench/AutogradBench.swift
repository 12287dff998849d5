import ArgumentParser
import Foundation

@main
struct AutogradBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autograd-bench",
        abstract: "Benchmarks swift-autograd beside PyTorch: the reference workloads (default) or the hot kernels one by one.",
        discussion: """
        `autograd-bench [workloads] --workloads W1,W4 --threads 1` times whole training steps (WORKLOADS.md); \
        `autograd-bench micro --filter conv` times single kernels. See `autograd-bench help <subcommand>`.
        """,
        subcommands: [WorkloadBench.self, MicroBench.self, ONNXBench.self],
        defaultSubcommand: WorkloadBench.self
    )
}

/// The thread counts of a `--threads 1,2` option.
func threadCountList(_ option: String) -> [Int] { option.split(separator: ",").compactMap { Int($0) } }

func validateThreadCounts(_ counts: [Int]) throws {
    guard counts.allSatisfy({ $0 > 0 }), !counts.isEmpty else { throw ValidationError("--threads must list positive numbers") }
}

/// Runs an executable and returns its standard output; throws when it fails.
///
/// `environment` adds variables to this process's (or replaces them); the names in `removing` are left out.
func runProcess(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                removing: Set<String> = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if !environment.isEmpty || !removing.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !removing.contains($0.key) }
    }
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError("\(path) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// The instruction-set level both sides run at (`--isa`): ours through `AUTOGRAD_ISA`, PyTorch's through ATen's,
/// oneDNN's and MKL's own caps.
enum BenchmarkLevel: String, ExpressibleByArgument, CaseIterable {
    /// Each side's own choice for this CPU.
    case native
    case avx512, avx2, generic

    /// Variables for our child processes.
    var oursEnvironment: [String: String] { self == .native ? [:] : ["AUTOGRAD_ISA": rawValue] }

    /// Variables for PyTorch's child processes.
    var torchEnvironment: [String: String] {
        switch self {
        case .native: return [:]
        case .avx512: return ["ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_ENABLE_INSTRUCTIONS": "AVX512"]
        case .avx2: return ["ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"]
        case .generic: return ["ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"]
        }
    }

    static let help = ArgumentHelp("""
        Instruction-set level for both sides: ours by AUTOGRAD_ISA, PyTorch by ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA \
        and MKL_ENABLE_INSTRUCTIONS; 'native' lets each choose for this CPU.
        """, valueName: "native|avx512|avx2|generic")
}

func cpuModel() -> String {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let name = info.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last
    return name.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
}
