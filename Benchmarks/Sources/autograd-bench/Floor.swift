import CPeak
import NN

/// The multiply-add peak of the cores in GFLOP/s at `level`, for each thread count (all threads at once; `cpeak.h`),
/// 0 where the level cannot run. Measure it before any kernel runs: a library's idle threads may still spin for a
/// while after a call, and a spinning thread takes a core from the measurement.
func multiplyAddPeaks(level: InstructionSet, threadCounts: [Int]) -> [Int: Double] {
    var peaks: [Int: Double] = [:]
    for t in threadCounts {
        // The best of three: a peak is what the cores can do, and a stray process only lowers a run.
        peaks[t] = (0..<3).map { _ in cpeak_multiply_add_gflops(Int32(level.rawValue), Int32(t), 0.15) }.max()
    }
    return peaks
}

/// One row of a floors table: a measurement whose FLOP are counted.
struct FloorRow {
    let id: String
    let threads: Int
    let flops: Double
    /// Our time and PyTorch's, in the table's unit.
    let ours: Double
    let torch: Double?
}

/// The floors table under a benchmark's table: each counted row's FLOP at the measured peak, a time no
/// implementation beats (real kernels also load, store and do the work between products), so floor/PyTorch is the
/// smallest ratio any implementation of these FLOP could reach on this machine at this level. `unitSeconds` is the
/// table's unit (1e-6 for µs, 1e-3 for ms).
func floorTable(level: InstructionSet, peaks: [Int: Double], rows: [FloorRow], unit: String, unitSeconds: Double) -> [String] {
    let counted = rows.filter { (peaks[$0.threads] ?? 0) > 0 }
    guard !counted.isEmpty else { return [] }
    let rates = peaks.keys.sorted().map { "\(formatted(peaks[$0]!)) GFLOP/s at \($0) thread(s)" }
    var lines = ["", "Multiply-add peak at \(level): " + rates.joined(separator: ", ")
        + ". Floor: the row's FLOP at that peak, a time no implementation beats.", "",
        "| id | threads | GFLOP | floor \(unit) | ours / floor | floor / PyTorch |", "|---|---|---|---|---|---|"]
    for row in counted {
        let floor = row.flops / (peaks[row.threads]! * 1e9) / unitSeconds
        lines.append("| \(row.id) | \(row.threads) | \(String(format: "%.3f", row.flops / 1e9)) | \(formatted(floor)) | "
            + "\(String(format: "%.2f", row.ours / floor)) | \(row.torch.map { String(format: "%.2f", floor / $0) } ?? "–") |")
    }
    return lines
}
