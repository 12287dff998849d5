import Foundation

/// A chart of named series — lines, scatter points and histogram bars — rendered to PNG with no
/// dependencies: axes with tick marks and numeric labels, light grid lines, an optional title and axis
/// labels, and a legend.
///
/// Text uses a built-in 5×7 bitmap font (digits, letters shown as capitals, `. - % : / ( ) = + , _`).
/// All series share one pair of axes whose ranges cover every finite point (and zero, for bars);
/// non-finite values break a line and are left out of a scatter.
///
/// ```swift
/// var plot = Plot(title: "Fashion-MNIST MLP", xLabel: "step", legend: .summary)
/// plot.add("train loss", y: lossPerStep)
/// plot.add("test accuracy", x: epochEndSteps, y: accuracyPerEpoch)
/// try plot.save(to: URL(fileURLWithPath: "training.png"))
///
/// var fit = Plot(title: "data and fit", xLabel: "x", yLabel: "y")
/// fit.scatter("data", x: xs, y: ys)
/// fit.add("fit", x: grid, y: predictions)
///
/// var residuals = Plot(title: "residuals")
/// residuals.histogram("residual", values: errors, bins: 30)
/// ```
public struct Plot: Sendable {
    /// How a series is drawn.
    public enum Style: Sendable, Equatable {
        /// Points joined by a line two pixels wide (an isolated point is a small square).
        case line
        /// A filled square marker at each point, no line (matplotlib's `scatter`).
        case points
        /// A bar from zero to `y` at each `x`, `width` data units wide (a histogram).
        case bars(width: Double)
    }

    /// What the legend shows for each series.
    public enum Legend: Sendable, Equatable {
        /// The colour and name.
        case plain
        /// The colour and name, then the minimum, maximum and last finite y value — for training curves.
        case summary
        /// No legend.
        case hidden
    }

    /// One series of the chart.
    public struct Series: Sendable {
        /// The legend name.
        public var name: String
        /// The x coordinate of each point.
        public var x: [Double]
        /// The y coordinate of each point.
        public var y: [Double]
        /// The colour of its line, markers or bars.
        public var color: RGB
        /// How it is drawn.
        public var style: Style
    }

    /// The title above the chart, if any.
    public var title: String?
    /// The label under the x axis, if any.
    public var xLabel: String?
    /// The label above the y axis, if any.
    public var yLabel: String?
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// What the legend shows.
    public var legend: Legend
    /// The series, drawn in order.
    public private(set) var series: [Series] = []

    /// An empty chart of the given size in pixels.
    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, width: Int = 800, height: Int = 500,
                legend: Legend = .plain) {
        precondition(width >= 200 && height >= 150, "Plot: size \(width)×\(height) is too small (at least 200×150)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.width = width
        self.height = height
        self.legend = legend
    }

    /// Adds a line through the points `(x[i], y[i])`; without `x`, the points are at x = 1, 2, 3, ….
    /// The colour defaults to the next of ``RGB/palette``.
    ///
    /// - Precondition: `x`, when given, has as many values as `y`.
    public mutating func add(_ name: String, x: [Double]? = nil, y: [Double], color: RGB? = nil) {
        append(name, x: x, y: y, color: color, style: .line)
    }

    /// Adds the points `(x[i], y[i])` as markers with no line between them.
    ///
    /// - Precondition: as many `x` as `y` values.
    public mutating func scatter(_ name: String, x: [Double], y: [Double], color: RGB? = nil) {
        append(name, x: x, y: y, color: color, style: .points)
    }

    /// Adds a histogram of `values`: `bins` bars of equal width over `range` (by default the finite
    /// values' extent), each as high as the number of values in it. Bins are half-open except the last,
    /// which includes the upper bound, as in NumPy's `histogram`; values outside the range and non-finite
    /// values are left out.
    ///
    /// - Precondition: `bins ≥ 1`.
    public mutating func histogram(_ name: String, values: [Double], bins: Int = 10, range: ClosedRange<Double>? = nil,
                                   color: RGB? = nil) {
        let counts = Histogram(values, bins: bins, range: range)
        append(name, x: counts.centers, y: counts.counts.map(Double.init), color: color, style: .bars(width: counts.binWidth))
    }

    private mutating func append(_ name: String, x: [Double]?, y: [Double], color: RGB?, style: Style) {
        let xs = x ?? y.indices.map { Double($0 + 1) }
        precondition(xs.count == y.count, "Plot: \(xs.count) x values for \(y.count) y values in \"\(name)\"")
        series.append(Series(name: name, x: xs, y: y, color: color ?? RGB.palette[series.count % RGB.palette.count],
                             style: style))
    }

    /// The points that the axes must show: every finite point, and for bars their edges and zero.
    private var extent: [(Double, Double)] {
        series.flatMap { s -> [(Double, Double)] in
            let finite = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }
            guard case .bars(let w) = s.style else { return finite }
            return finite.flatMap { [($0.0 - w / 2, 0), ($0.0 + w / 2, $0.1)] }
        }
    }

    /// The chart as an RGB image of ``width`` × ``height``.
    public func render() -> PNGImage {
        var canvas = Canvas(width: width, height: height, background: .white)
        let points = extent
        let xTicks = niceTicks(points.map(\.0), pad: false)
        let yTicks = niceTicks(points.map(\.1), pad: true, keepSign: true)
        let xLabels = labels(xTicks), yLabels = labels(yTicks)

        // Layout: title on top, y tick labels on the left, x ticks, x label and legend below.
        let line = BitmapFont.height + 5
        let legendLines = legend == .hidden ? 0 : series.count
        let top = 10 + (title == nil ? 0 : 2 * BitmapFont.height + 8) + (yLabel == nil ? 0 : line)
        let left = 12 + (yLabels.map { Canvas.textWidth($0) }.max() ?? 0) + 6
        let right = width - 12 - Canvas.textWidth(xLabels.last ?? "") / 2
        let legendTop = height - 8 - legendLines * line
        let bottom = legendTop - 10 - line - (xLabel == nil ? 0 : line)
        let plotWidth = Swift.max(right - left, 1), plotHeight = Swift.max(bottom - top, 1)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Int { left + Int(((x - x0) / (x1 - x0) * Double(plotWidth)).rounded()) }
        func py(_ y: Double) -> Int { bottom - Int(((y - y0) / (y1 - y0) * Double(plotHeight)).rounded()) }

        if let title {
            canvas.text(title, x: (width - Canvas.textWidth(title, scale: 2)) / 2, y: 8, .black, scale: 2)
        }
        if let yLabel { canvas.text(yLabel, x: 12, y: top - line, .black) }
        for (t, label) in zip(yTicks, yLabels) {
            let y = py(t)
            canvas.line(left, y, right, y, .lightGray)
            canvas.line(left - 4, y, left, y, .black)
            canvas.text(label, x: left - 6 - Canvas.textWidth(label), y: y - BitmapFont.height / 2, .black)
        }
        for (t, label) in zip(xTicks, xLabels) {
            let x = px(t)
            canvas.line(x, top, x, bottom, .lightGray)
            canvas.line(x, bottom, x, bottom + 4, .black)
            canvas.text(label, x: x - Canvas.textWidth(label) / 2, y: bottom + 7, .black)
        }
        if let xLabel {
            canvas.text(xLabel, x: left + (plotWidth - Canvas.textWidth(xLabel)) / 2, y: bottom + 7 + line, .black)
        }

        // Several histograms share each bin side by side, as matplotlib's hist of several data sets does.
        let bars = series.indices.filter { if case .bars = series[$0].style { true } else { false } }
        for (index, s) in series.enumerated() {
            var previous: (Int, Int)?
            for (x, y) in zip(s.x, s.y) {
                guard x.isFinite && y.isFinite else { previous = nil; continue }
                let p = (px(x), py(y))
                switch s.style {
                case .line:
                    if let q = previous { canvas.line(q.0, q.1, p.0, p.1, s.color, thickness: 2) }
                    else { canvas.fill(x: p.0 - 1, y: p.1 - 1, width: 3, height: 3, s.color) }
                    previous = p
                case .points:
                    canvas.fill(x: p.0 - 2, y: p.1 - 2, width: 5, height: 5, s.color)
                case .bars(let w):
                    guard y != 0 else { continue }
                    // One pixel of white between neighbouring bars keeps them apart.
                    let share = w / Double(bars.count), k = Double(bars.firstIndex(of: index)!)
                    let l = px(x - w / 2 + k * share), r = px(x - w / 2 + (k + 1) * share), base = py(Swift.max(y0, 0))
                    canvas.fill(x: l + 1, y: Swift.min(p.1, base), width: Swift.max(r - l - 1, 1),
                                height: Swift.abs(base - p.1) + 1, s.color)
                }
            }
        }
        // Axes last, so bars starting at zero do not hide them.
        canvas.line(left, top, left, bottom, .black)
        canvas.line(left, bottom, right, bottom, .black)

        guard legend != .hidden else { return canvas.image }
        for (i, s) in series.enumerated() {
            let y = legendTop + i * line
            switch s.style {
            case .line: canvas.fill(x: left, y: y + BitmapFont.height / 2 - 1, width: 18, height: 3, s.color)
            case .points: canvas.fill(x: left + 7, y: y + BitmapFont.height / 2 - 2, width: 5, height: 5, s.color)
            case .bars: canvas.fill(x: left + 4, y: y, width: 10, height: BitmapFont.height, s.color)
            }
            var text = s.name
            let finite = s.y.filter(\.isFinite)
            if legend == .summary, let lo = finite.min(), let hi = finite.max(), let last = finite.last {
                text += "  MIN \(compact(lo))  MAX \(compact(hi))  LAST \(compact(last))"
            }
            canvas.text(text, x: left + 24, y: y, .black)
        }
        return canvas.image
    }

    /// Renders the chart and writes it as a PNG file at `url`.
    public func save(to url: URL) throws(DataError) {
        try render().save(to: url)
    }
}

/// The name of ``Plot`` when it drew only lines.
public typealias LinePlot = Plot

/// About six evenly spaced round tick values (the step of 1, 2 or 5 × 10ⁿ nearest a fifth of the span) covering `values`
/// (0...1 when there are none; a range around a single value).
/// With `keepSign`, padding does not take a range of non-negative values below zero (counts, losses).
func niceTicks(_ values: [Double], pad: Bool, keepSign: Bool = false) -> [Double] {
    var lo = values.min() ?? 0, hi = values.max() ?? 1
    let nonNegative = lo >= 0
    if lo == hi {
        let d = lo == 0 ? 1 : Swift.abs(lo) * 0.1
        lo -= d; hi += d
    } else if pad {
        let d = (hi - lo) * 0.05
        lo -= d; hi += d
    }
    if keepSign && nonNegative { lo = Swift.max(lo, 0) }
    let raw = (hi - lo) / 5
    let magnitude = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.min { Swift.abs(Foundation.log($0 / raw)) < Swift.abs(Foundation.log($1 / raw)) }!
    let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
    return stride(from: first, through: last, by: 1).map { $0 * step }
}

/// Tick labels with just enough decimals to tell neighbouring ticks apart.
func labels(_ ticks: [Double]) -> [String] {
    let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
    let biggest = ticks.map { Swift.abs($0) }.max() ?? 0
    if biggest >= 1e6 || step < 1e-4 { return ticks.map { String(format: "%.2e", $0) } }
    let decimals = Swift.max(0, Int(-Foundation.log10(step).rounded(.down)))
    return ticks.map { String(format: "%.\(decimals)f", Swift.abs($0) < step / 2 ? 0 : $0) }
}

/// A value in at most four significant digits.
func compact(_ v: Double) -> String { String(format: "%.4g", v) }
