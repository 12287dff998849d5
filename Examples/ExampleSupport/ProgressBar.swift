import Foundation

/// A training progress bar: steps done, steps per second, running loss and time left.
///
/// On a terminal it redraws one line; when output goes to a file or pipe it prints a plain line
/// every `plainEvery` steps and at the end, so logs stay readable.
public final class ProgressBar {
    private let total: Int
    private let label: String
    private let interactive: Bool
    private let plainEvery: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var done = 0

    /// A bar for `total` steps titled `label`.
    public init(total: Int, label: String, plainEvery: Int? = nil) {
        self.total = max(total, 1)
        self.label = label
        interactive = isatty(STDOUT_FILENO) != 0
        self.plainEvery = plainEvery ?? max(total / 5, 1)
    }

    /// Records one more step and redraws with the given metrics (e.g. `["loss": 0.42]`).
    public func advance(metrics: KeyValuePairs<String, Double> = [:]) {
        done += 1
        let now = Date()
        let finished = done == total
        if interactive {
            guard finished || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            print("\r" + line(metrics: metrics), terminator: finished ? "\n" : "")
            fflush(stdout)
        } else if finished || done % plainEvery == 0 {
            print(line(metrics: metrics))
            fflush(stdout)
        }
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    private func line(metrics: KeyValuePairs<String, Double>) -> String {
        let elapsed = self.elapsed
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        let width = 24
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        // Rates (tokens/s) in whole units, losses with four decimals.
        let values = metrics.map { "\($0.key) \(String(format: abs($0.value) >= 100 ? "%.0f" : "%.4f", $0.value))" }
            .joined(separator: "  ")
        return "\(label) \(bar) \(done)/\(total)  \(String(format: "%.1f", rate)) steps/s  \(values)  " +
            (done == total ? String(format: "%.1fs", elapsed) : "ETA \(String(format: "%.0f", eta))s")
    }
}
