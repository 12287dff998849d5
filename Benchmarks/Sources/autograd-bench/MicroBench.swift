import ArgumentParser
import Foundation
import NN

/// `autograd-bench micro`: the hot kernels one by one (MicroBenchmarks.swift), beside PyTorch when it imports.
struct MicroBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro",
        abstract: "Times the hot kernels (elementwise, reductions, softmax, convolution, pooling, BatchNorm, optimiser steps, matmul) one by one.",
        discussion: """
        Float32, shapes from the reference workloads. Each kernel: warm-up calls, then --repeats timed samples of about \
        1 ms each (short calls are repeated within a sample); the median and the fastest sample are reported in µs per call. \
        Our side runs in this process with BLAS.threadCount set to each thread count; PyTorch (pytorch/micro.py, glibc \
        malloc tuned) runs in one child process per thread count with torch.set_num_threads. \
        The cores' multiply-add peak at our level is measured at each thread count (about 0.5 s): a second table gives \
        each FLOP-counted kernel's floor, the time its multiply-adds alone take at that peak.
        """
    )

    @Option(help: "Run only kernels whose id contains one of these comma-separated substrings (e.g. conv,adam); a substring ending in $ must end the id (attention-t64-fwd$).")
    var filter: String?
    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Timed samples per kernel (median and min are reported).") var repeats = 30
    @Option(help: "Untimed warm-up calls per kernel (at least 1).") var warmup = 3
    @Flag(help: "Skip PyTorch even when it is importable.") var noTorch = false
    @Option(help: "Python interpreter for the PyTorch side.") var python = "python3"
    @Flag(help: "List the kernel ids and shapes, and exit.") var list = false
    @Option(help: BenchmarkLevel.help) var isa = BenchmarkLevel.native

    func validate() throws {
        guard repeats > 0, warmup > 0 else { throw ValidationError("--repeats and --warmup must be positive") }
        try validateThreadCounts(threadCountList(threads))
        guard !kernels.isEmpty else {
            throw ValidationError("--filter \(filter ?? "") matches no kernel; ids: \(MicroCase.all.map(\.id).joined(separator: ", "))")
        }
    }

    /// The kernels `--filter` selects, in table order.
    var kernels: [MicroCase] {
        guard let filter else { return MicroCase.all }
        let needles = filter.lowercased().split(separator: ",").map(String.init)
        return MicroCase.all.filter { kernel in
            let id = kernel.id.lowercased()
            return needles.contains { $0.hasSuffix("$") ? id.hasSuffix($0.dropLast()) : id.contains($0) }
        }
    }

    func run() throws {
        if list {
            for kernel in kernels { print("\(kernel.id)  \(kernel.shape)") }
            return
        }
        // Ours run in this process: the cap must be in the environment before the first kernel reads it.
        for (name, value) in isa.oursEnvironment { setenv(name, value, 1) }
        let torch = noTorch ? nil : TorchRunner(python: python)
        if torch == nil && !noTorch {
            print("PyTorch is not importable: showing swift-autograd only. For the comparison: pip install torch==2.13.0+cpu\n")
        }
        print("Our kernels: \(InstructionSet.summary)")
        var rows: [MicroRow] = []
        let peaks = kernels.contains(where: { $0.floorFlops != nil })
            ? multiplyAddPeaks(level: InstructionSet.available, threadCounts: threadCountList(threads)) : [:]
        for t in threadCountList(threads) {
            BLAS.threadCount = t
            let first = rows.count
            for kernel in kernels {
                let call = kernel.make()
                rows.append(MicroRow(kernel: kernel, threads: t, ours: microTiming(of: call, warmup: warmup, samples: repeats)))
                print(rows.last!.progressLine)
            }
            if let torch {
                let theirs = torch.micro(ids: kernels.map(\.id), threads: t, warmup: warmup, samples: repeats,
                                         environment: isa.torchEnvironment)
                for i in first..<rows.count {
                    rows[i].torch = theirs[rows[i].kernel.id]
                    print(rows[i].progressLine)
                }
            }
        }
        print("\n" + MicroReport(rows: rows, cpu: cpuModel(), productKernels: BLAS.floatProductKernels, level: InstructionSet.available,
                                   peakGFLOPS: peaks).markdown)
    }
}
