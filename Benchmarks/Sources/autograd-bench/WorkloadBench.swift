import ArgumentParser
import Foundation
import NN

/// `autograd-bench [workloads]`: the reference workloads, each (workload, threads) pair in a child process.
struct WorkloadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workloads",
        abstract: "Times the reference workloads (WORKLOADS.md) in swift-autograd and, when torch imports, in PyTorch.",
        discussion: """
        Each (workload, threads) pair runs in a fresh child process, for both frameworks, so peak memory is per run.
        PyTorch runs twice: with default malloc and with glibc's malloc tuned \
        (MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456); ratios count against its faster time.
        """
    )

    @Option(help: "Comma-separated workload ids.") var workloads = Workload.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Timed steps per run (median is reported).") var steps = 100
    @Option(help: "Untimed warm-up steps.") var warmup = 10
    @Flag(help: "Skip PyTorch even when it is importable.") var noTorch = false
    @Option(help: "Python interpreter for the PyTorch side.") var python = "python3"
    @Option(help: ArgumentHelp("""
        OPENBLAS_CORETYPE for our runs: 'inherit' keeps this environment's, 'auto' removes it (OpenBLAS detects \
        the CPU, then swift-autograd prefers AVX-512 kernels), any other value is set.
        """, valueName: "inherit|auto|core"))
    var openblasCoretype = "inherit"
    @Option(help: BenchmarkLevel.help) var isa = BenchmarkLevel.native
    @Option(help: "Run one workload in this process and print its JSON measurement (used by the parent run).")
    var single: String?

    func validate() throws {
        for id in workloads.split(separator: ",") where Workload(rawValue: String(id)) == nil {
            throw ValidationError("unknown workload \(id); available: \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard steps > 0, warmup >= 0 else { throw ValidationError("--steps must be positive and --warmup non-negative") }
        try validateThreadCounts(threadCounts)
    }

    var threadCounts: [Int] { threadCountList(threads) }

    func run() throws {
        if let single {
            guard let workload = Workload(rawValue: single) else { throw ValidationError("unknown workload \(single)") }
            print(try String(decoding: JSONEncoder().encode(measure(workload, threads: threadCounts[0])), as: UTF8.self))
            return
        }
        let torch = noTorch ? nil : TorchRunner(python: python)
        if torch == nil && !noTorch {
            print("PyTorch is not importable: showing swift-autograd only. For the comparison: pip install torch==2.13.0+cpu\n")
        }
        let ids = workloads.split(separator: ",").map(String.init)
        let peaks = ids.contains(where: { Workload(rawValue: $0)?.productFlops != nil })
            ? multiplyAddPeaks(level: level, threadCounts: threadCounts) : [:]
        var rows: [ReportRow] = []
        for id in ids {
            for t in threadCounts {
                let ours = try runChild(workload: id, threads: t)
                let theirs = torch.map { runner in [false, true].map {
                    runner.run(workload: id, threads: t, steps: steps, warmup: warmup, tunedMalloc: $0,
                               environment: isa.torchEnvironment)
                } } ?? []
                rows.append(ReportRow(ours: ours, torch: theirs.compactMap { $0 }))
                print(rows.last!.progressLine)
            }
        }
        let levels = Set(rows.compactMap(\.ours.instructionSet)).sorted().joined(separator: ", ")
        let torchLevels = Set(rows.flatMap { $0.torch.compactMap(\.cpu_capability) }).sorted().joined(separator: ", ")
        print("\nLevels: ours \(levels.isEmpty ? "–" : levels); PyTorch \(torchLevels.isEmpty ? "–" : torchLevels)")
        let cores = Set(rows.compactMap(\.ours.productKernels)).sorted()
        print("\n" + Report(rows: rows, cpu: cpuModel(), productKernels: cores.isEmpty ? BLAS.floatProductKernels : cores.joined(separator: ", "),
                            coreNote: coreNote, level: level, peakGFLOPS: peaks).markdown)
    }

    /// The level our child processes run at: this process's (`AUTOGRAD_ISA` passes to them), capped by `--isa`.
    var level: InstructionSet {
        let cap = isa == .native ? nil : InstructionSet(name: isa.rawValue)
        return cap.map { Swift.min($0, InstructionSet.available) } ?? InstructionSet.available
    }

    /// Says where our runs' OPENBLAS_CORETYPE came from, when anything but OpenBLAS's own detection chose it.
    var coreNote: String? {
        switch openblasCoretype {
        case "auto": return nil
        case "inherit":
            guard let inherited = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] else { return nil }
            return "OPENBLAS_CORETYPE=\(inherited) is set in this environment: swift-autograd keeps that choice of "
                + "OpenBLAS kernels (Double, LAPACK), and Float products run its own AVX-512 kernel where OpenBLAS's are "
                + "AVX2 on an AVX-512 CPU. `--openblas-coretype auto` measures without the variable (OpenBLAS's own "
                + "detection, then swift-autograd's AVX-512 preference)."
        default: return "Our runs had OPENBLAS_CORETYPE=\(openblasCoretype) (`--openblas-coretype`)."
        }
    }

    func measure(_ workload: Workload, threads: Int) -> Measurement {
        BLAS.threadCount = threads
        if workload == .w5 {
            let (ours, direct) = matmulGflops(sizes: [256, 1024, 2048], repeats: max(3, steps / 20))
            return Measurement(workload: workload.rawValue, threads: threads, gflops: ours, directGflops: direct,
                               peakRSSMegabytes: peakRSSMegabytes(), productKernels: BLAS.floatProductKernels,
                               instructionSet: InstructionSet.summary)
        }
        let step = workload.makeStep()
        let (ms, buffers, system) = timeSteps(step, warmup: warmup, steps: steps)
        return Measurement(workload: workload.rawValue, threads: threads, msMedian: ms, peakRSSMegabytes: peakRSSMegabytes(),
                           buffersPerStep: buffers, systemBuffersPerStep: system, productKernels: BLAS.floatProductKernels,
                           instructionSet: InstructionSet.summary)
    }

    func runChild(workload: String, threads: Int) throws -> Measurement {
        var environment = isa.oursEnvironment, removing: Set<String> = []
        switch openblasCoretype {
        case "inherit": break
        case "auto": removing = ["OPENBLAS_CORETYPE"]
        default: environment["OPENBLAS_CORETYPE"] = openblasCoretype
        }
        let output = try runProcess(CommandLine.arguments[0], ["workloads", "--single", workload, "--threads", "\(threads)",
                                                               "--steps", "\(steps)", "--warmup", "\(warmup)"],
                                    environment: environment, removing: removing)
        guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8),
              let measurement = try? JSONDecoder().decode(Measurement.self, from: data) else {
            throw ValidationError("benchmark child for \(workload) printed no measurement:\n\(output)")
        }
        return measurement
    }
}
