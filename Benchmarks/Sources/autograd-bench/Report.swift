import Foundation
import NN

/// One (workload, threads) line of the comparison.
struct ReportRow {
    let ours: Measurement
    let torch: [TorchMeasurement]

    /// PyTorch's faster run (default or tuned malloc), which ratios count against.
    var bestTorchMs: Double? { torch.compactMap(\.ms_median).min() }

    var ratio: Double? { zip2(ours.msMedian, bestTorchMs).map { $0 / $1 } }

    var progressLine: String {
        if let ms = ours.msMedian {
            return "\(ours.workload) \(ours.threads) thread(s): ours \(formatted(ms)) ms" + (bestTorchMs.map { ", PyTorch \(formatted($0)) ms" } ?? "")
        }
        return "\(ours.workload) \(ours.threads) thread(s): " + (ours.gflops ?? [:]).sorted { Int($0.key)! < Int($1.key)! }
            .map { "n=\($0.key) \(formatted($0.value)) GFLOP/s" }.joined(separator: ", ")
    }
}

/// The markdown table printed at the end of a run (and pasted into Docs/Performance.md).
struct Report {
    let rows: [ReportRow]
    let cpu: String
    let productKernels: String
    /// Where the OpenBLAS kernels came from, when not from OpenBLAS's own detection.
    var coreNote: String? = nil
    /// The level our runs used, and the cores' multiply-add peak at it for each thread count (for the floors).
    let level: InstructionSet
    let peakGFLOPS: [Int: Double]

    var markdown: String {
        var lines = ["Machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; Float products: \(productKernels).", ""]
        if let coreNote { lines.insert(coreNote, at: 1) }
        lines.append("| workload | threads | ours ms/step | PyTorch ms (default / tuned malloc) | ratio ours/best | our peak RSS MiB | PyTorch peak RSS MiB | buffers/step (from system) |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for row in rows where row.ours.msMedian != nil {
            let torch = row.torch.map { $0.ms_median.map(formatted) ?? "–" }.joined(separator: " / ")
            let rss = row.torch.map { formatted($0.peak_rss_mb) }.min() ?? "–"
            lines.append("| \(row.ours.workload) | \(row.ours.threads) | \(formatted(row.ours.msMedian!)) | \(torch.isEmpty ? "–" : torch) | "
                + "\(row.ratio.map { String(format: "%.2f", $0) } ?? "–") | \(formatted(row.ours.peakRSSMegabytes)) | \(rss) | "
                + "\(row.ours.buffersPerStep.map(formatted) ?? "–") (\(row.ours.systemBuffersPerStep.map(formatted) ?? "–")) |")
        }
        let gemm = rows.filter { $0.ours.gflops != nil }
        if !gemm.isEmpty {
            lines += ["", "| W5 matmul | threads | n | ours GFLOP/s | direct cblas_sgemm | ours/direct | PyTorch (best) | ours/PyTorch |", "|---|---|---|---|---|---|---|---|"]
            for row in gemm {
                for n in (row.ours.gflops ?? [:]).keys.sorted(by: { Int($0)! < Int($1)! }) {
                    let ours = row.ours.gflops![n]!, direct = row.ours.directGflops?[n]
                    let torch = row.torch.compactMap { $0.gflops?[n] }.max()
                    lines.append("| W5 | \(row.ours.threads) | \(n) | \(formatted(ours)) | \(direct.map(formatted) ?? "–") | "
                        + "\(direct.map { String(format: "%.2f", ours / $0) } ?? "–") | \(torch.map(formatted) ?? "–") | "
                        + "\(torch.map { String(format: "%.2f", ours / $0) } ?? "–") |")
                }
            }
        }
        lines += floorTable(level: level, peaks: peakGFLOPS, rows: rows.compactMap { row in
            guard let flops = Workload(rawValue: row.ours.workload)?.productFlops, let ms = row.ours.msMedian else { return nil }
            return FloorRow(id: row.ours.workload, threads: row.ours.threads, flops: flops, ours: ms, torch: row.bestTorchMs)
        }, unit: "ms", unitSeconds: 1e-3)
        return lines.joined(separator: "\n")
    }
}

/// A figure for the tables: no decimals from 100 up, two below.
func formatted(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : "%.2f", x) }

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
