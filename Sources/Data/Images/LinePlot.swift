import Foundation

/// A line chart of named series of numbers, rendered to PNG with no dependencies: axes with tick
/// marks and numeric labels, light grid lines, an optional title and axis labels, and a legend that
/// gives each series' colour, name, minimum, maximum and last value.
///
/// Text uses a built-in 5×7 bitmap font (digits, letters shown as capitals, `. - % : / ( ) = + , _`).
/// All series share one pair of axes whose ranges cover every finite point; non-finite values break
/// a line instead of spoiling the scale.
///
/// ```swift
/// var plot = LinePlot(title: "Fashion-MNIST MLP", xLabel: "step")
/// plot.add("train loss", y: lossPerStep)
/// plot.add("test accuracy", x: epochEndSteps, y: accuracyPerEpoch)
/// try plot.write(to: "training.png")
/// ```
public struct LinePlot: Sendable {
    /// One line of the chart.
    public struct Series: Sendable {
        /// The legend name.
        public var name: String
        /// The x coordinate of each point.
        public var x: [Double]
        /// The y coordinate of each point.
        public var y: [Double]
        /// The line colour.
        public var color: RGB
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
    /// The lines, drawn in order.
    public private(set) var series: [Series] = []

    /// An empty chart of the given size in pixels.
    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, width: Int = 800, height: Int = 500) {
        precondition(width >= 200 && height >= 150, "LinePlot: size \(width)×\(height) is too small (at least 200×150)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.width = width
        self.height = height
    }

    /// Adds a series with points `(x[i], y[i])`; without `x`, the points are at x = 1, 2, 3, ….
    /// The colour defaults to the next of ``RGB/palette``.
    ///
    /// - Precondition: `x`, when given, has as many values as `y`.
    public mutating func add(_ name: String, x: [Double]? = nil, y: [Double], color: RGB? = nil) {
        let xs = x ?? y.indices.map { Double($0 + 1) }
        precondition(xs.count == y.count, "LinePlot.add: \(xs.count) x values for \(y.count) y values in \"\(name)\"")
        series.append(Series(name: name, x: xs, y: y, color: color ?? RGB.palette[series.count % RGB.palette.count]))
    }

    /// The chart as an RGB image of ``width`` × ``height``.
    public func render() -> PNGImage {
        var canvas = Canvas(width: width, height: height, background: .white)
        let points = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let xTicks = niceTicks(points.map(\.0), pad: false)
        let yTicks = niceTicks(points.map(\.1), pad: true)
        let xLabels = labels(xTicks), yLabels = labels(yTicks)

        // Layout: title on top, y tick labels on the left, x ticks, x label and legend below.
        let line = BitmapFont.height + 5
        let top = 10 + (title == nil ? 0 : 2 * BitmapFont.height + 8) + (yLabel == nil ? 0 : line)
        let left = 12 + (yLabels.map { Canvas.textWidth($0) }.max() ?? 0) + 6
        let right = width - 12 - Canvas.textWidth(xLabels.last ?? "") / 2
        let legendTop = height - 8 - series.count * line
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
        canvas.line(left, top, left, bottom, .black)
        canvas.line(left, bottom, right, bottom, .black)

        for s in series {
            var previous: (Int, Int)?
            for (x, y) in zip(s.x, s.y) {
                guard x.isFinite && y.isFinite else { previous = nil; continue }
                let p = (px(x), py(y))
                if let q = previous { canvas.line(q.0, q.1, p.0, p.1, s.color, thickness: 2) }
                else { canvas.fill(x: p.0 - 1, y: p.1 - 1, width: 3, height: 3, s.color) }
                previous = p
            }
        }

        for (i, s) in series.enumerated() {
            let y = legendTop + i * line
            canvas.fill(x: left, y: y + BitmapFont.height / 2 - 1, width: 18, height: 3, s.color)
            let finite = s.y.filter(\.isFinite)
            var text = s.name
            if let lo = finite.min(), let hi = finite.max(), let last = finite.last {
                text += "  MIN \(compact(lo))  MAX \(compact(hi))  LAST \(compact(last))"
            }
            canvas.text(text, x: left + 24, y: y, .black)
        }
        return canvas.image
    }

    /// Renders the chart and writes it as a PNG file at `path`.
    public func write(to path: String) throws(DataError) {
        try render().write(to: path)
    }
}

/// About six evenly spaced round tick values (the step of 1, 2 or 5 × 10ⁿ nearest a fifth of the span) covering `values`
/// (0...1 when there are none; a range around a single value).
func niceTicks(_ values: [Double], pad: Bool) -> [Double] {
    var lo = values.min() ?? 0, hi = values.max() ?? 1
    if lo == hi {
        let d = lo == 0 ? 1 : Swift.abs(lo) * 0.1
        lo -= d; hi += d
    } else if pad {
        let d = (hi - lo) * 0.05
        lo -= d; hi += d
    }
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
