import Foundation
import NN

/// One (kernel, threads) line of the micro-benchmark table.
struct MicroRow {
    let kernel: MicroCase
    let threads: Int
    let ours: MicroTiming
    var torch: MicroTiming?

    /// Our median time over PyTorch's (below 1.0 we are faster).
    var ratio: Double? { torch.map { ours.usMedian / $0.usMedian } }

    var progressLine: String {
        "\(kernel.id) \(threads) thread(s): ours \(formatted(ours.usMedian)) µs" + (torch.map { ", PyTorch \(formatted($0.usMedian)) µs" } ?? "")
            + (ratio.map { String(format: ", ratio %.2f", $0) } ?? "")
    }
}

/// The markdown table printed at the end of `autograd-bench micro`.
struct MicroReport {
    let rows: [MicroRow]
    let cpu: String
    let productKernels: String
    /// The level our kernels ran at, whose registers the peak was measured with.
    let level: InstructionSet
    /// The cores' multiply-add peak in GFLOP/s at each thread count, all threads at once (`cpeak.h`).
    let peakGFLOPS: [Int: Double]

    var markdown: String {
        var lines = ["Machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; Float products: \(productKernels).", ""]
        lines.append("| kernel | shape | threads | ours µs (median) | ours µs (min) | ours rate | PyTorch µs (median) | PyTorch µs (min) | ratio ours/PyTorch |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for row in rows {
            let rate = row.kernel.work.map { $0.rate(seconds: row.ours.usMedian / 1e6) } ?? "–"
            lines.append("| \(row.kernel.id) | \(row.kernel.shape) | \(row.threads) | \(formatted(row.ours.usMedian)) | "
                + "\(formatted(row.ours.usMin)) | \(rate) | \(row.torch.map { formatted($0.usMedian) } ?? "–") | "
                + "\(row.torch.map { formatted($0.usMin) } ?? "–") | \(row.ratio.map { String(format: "%.2f", $0) } ?? "–") |")
        }
        lines += floors
        return lines.joined(separator: "\n")
    }

    /// The floors of the FLOP-counted rows (``floorTable(level:peaks:rows:unit:unitSeconds:)``).
    private var floors: [String] {
        floorTable(level: level, peaks: peakGFLOPS, rows: rows.compactMap { row in
            row.kernel.floorFlops.map { FloorRow(id: row.kernel.id, threads: row.threads, flops: $0, ours: row.ours.usMedian, torch: row.torch?.usMedian) }
        }, unit: "µs", unitSeconds: 1e-6)
    }
}
