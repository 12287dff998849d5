import Foundation

/// A progress bar for a loop of known length: steps done, steps per second, the metrics you pass
/// (a running loss) and the time left (tqdm's bar).
///
/// On a terminal it rewrites one line in place, at most ten times a second; when output goes to a
/// file or a pipe it prints a plain line every `plainEvery` steps and at the end, so logs stay
/// readable.
///
/// ```swift
/// let progress = ProgressBar(total: loader.count, label: "epoch \(epoch)")
/// for (x, y) in loader {
///     let loss = step(x, y)
///     progress.advance(metrics: ["loss": loss])
/// }
/// ```
///
/// prints, when redirected to a file,
///
/// ```
/// epoch 1 ████████████████████████ 469/469  152.3 steps/s  loss 0.4123  3.1s
/// ```
public final class ProgressBar {
    private let total: Int
    private let label: String
    private let interactive: Bool
    private let plainEvery: Int
    private let output: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var lastDraw = -Double.infinity
    /// The steps recorded so far.
    public private(set) var done = 0

    /// A bar for `total` steps titled `label`, written to standard output.
    ///
    /// - Parameters:
    ///   - total: the number of steps the bar runs to.
    ///   - label: the title printed before the bar.
    ///   - plainEvery: steps between lines when output is not a terminal; by default a fifth of `total`.
    ///   - interactive: whether to rewrite one line; by default, whether standard output is a terminal.
    public convenience init(total: Int, label: String, plainEvery: Int? = nil, interactive: Bool? = nil) {
        self.init(total: total, label: label, plainEvery: plainEvery,
                  interactive: interactive ?? (isatty(STDOUT_FILENO) != 0),
                  output: { text in
                      print(text, terminator: "")
                      fflush(stdout)
                  },
                  clock: { Date().timeIntervalSinceReferenceDate })
    }

    /// A bar that hands each piece of text to `output` (with `"\r"` and `"\n"` as a terminal needs them)
    /// and reads the time in seconds from `clock`.
    public init(total: Int, label: String, plainEvery: Int? = nil, interactive: Bool,
                output: @escaping (String) -> Void, clock: @escaping () -> Double) {
        self.total = Swift.max(total, 1)
        self.label = label
        self.interactive = interactive
        self.plainEvery = Swift.max(plainEvery ?? total / 5, 1)
        self.output = output
        self.clock = clock
        start = clock()
    }

    /// Records `steps` more steps and redraws with the given metrics (e.g. `["loss": 0.42]`).
    public func advance(_ steps: Int = 1, metrics: KeyValuePairs<String, Double> = [:]) {
        let before = done
        done = Swift.min(done + steps, total)
        let now = clock()
        let finished = done == total
        if interactive {
            guard finished || now - lastDraw > 0.1 else { return }
            lastDraw = now
            // "\r" returns to the line's start and ESC[K clears what a longer previous line left.
            output("\r" + line(metrics: metrics, now: now) + "\u{1B}[K" + (finished ? "\n" : ""))
        } else if finished || done / plainEvery > before / plainEvery {
            output(line(metrics: metrics, now: now) + "\n")
        }
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { clock() - start }

    /// Steps per second so far.
    public var rate: Double { Double(done) / Swift.max(elapsed, 1e-9) }

    /// The line drawn for the current state.
    func line(metrics: KeyValuePairs<String, Double>, now: Double) -> String {
        let elapsed = now - start
        let rate = Double(done) / Swift.max(elapsed, 1e-9)
        let width = 24
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        // Large values (tokens/s) in whole units, losses with four decimals.
        let values = metrics.map { " \($0.key) \(String(format: Swift.abs($0.value) >= 100 ? "%.0f" : "%.4f", $0.value))" }
            .joined(separator: " ")
        let time = done == total ? Self.duration(elapsed) : "ETA " + Self.duration(Double(total - done) / Swift.max(rate, 1e-9))
        return "\(label) \(bar) \(done)/\(total)  \(String(format: "%.1f", rate)) steps/s \(values)  \(time)"
    }

    /// Seconds as `12.3s`, `4m05s` or `2h03m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
    }
}
