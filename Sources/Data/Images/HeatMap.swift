import Foundation

/// A matrix drawn as a grid of shaded cells, each optionally labelled with text — a confusion matrix,
/// an attention map, a correlation table — rendered to PNG.
///
/// Cells run from white (the low end of `range`) to dark blue (the high end), matplotlib's "Blues";
/// NaN cells are grey. Row names go on the left; column names go under the grid when they fit the
/// cells, otherwise the columns are numbered and the rows named `index name`.
///
/// ```swift
/// let map = HeatMap(values: [[0.9, 0.1], [0.2, 0.8]], rowNames: ["cat", "dog"], columnNames: ["cat", "dog"])
/// try map.save(to: URL(fileURLWithPath: "confusion.png"))
/// ```
public struct HeatMap: Sendable {
    /// The value of each cell, row by row.
    public var values: [[Double]]
    /// Text drawn in each cell (same shape as `values`), if any.
    public var labels: [[String]]?
    /// The name of each row.
    public var rowNames: [String]
    /// The name of each column.
    public var columnNames: [String]
    /// The title above the grid, if any.
    public var title: String?
    /// The label under the columns, if any.
    public var xLabel: String?
    /// The label above the rows, if any.
    public var yLabel: String?
    /// The values shown as the lightest and darkest shades; by default the finite values' extent.
    public var range: ClosedRange<Double>?

    /// A heat map of `values` (rows of equal length).
    ///
    /// - Precondition: at least one row and column, rows of equal length, and `labels`, `rowNames` and
    ///   `columnNames` (when given) of matching sizes.
    public init(values: [[Double]], labels: [[String]]? = nil, rowNames: [String]? = nil, columnNames: [String]? = nil,
                title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, range: ClosedRange<Double>? = nil) {
        let columns = values.first?.count ?? 0
        precondition(columns > 0 && values.allSatisfy { $0.count == columns },
                     "HeatMap: values must be a non-empty matrix with rows of equal length")
        precondition(labels.map { $0.count == values.count && $0.allSatisfy { $0.count == columns } } ?? true,
                     "HeatMap: labels must have the shape of values (\(values.count)×\(columns))")
        precondition((rowNames?.count ?? values.count) == values.count && (columnNames?.count ?? columns) == columns,
                     "HeatMap: \(rowNames?.count ?? values.count) row names and \(columnNames?.count ?? columns) column names for \(values.count)×\(columns) values")
        self.values = values
        self.labels = labels
        self.rowNames = rowNames ?? values.indices.map(String.init)
        self.columnNames = columnNames ?? (0..<columns).map(String.init)
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.range = range
    }

    /// The colour of a value at fraction `t` (0...1) of the range.
    static func shade(_ t: Double) -> RGB {
        let low = (247.0, 251.0, 255.0), high = (8.0, 48.0, 107.0)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * t).rounded()) }
        return RGB(mix(low.0, high.0), mix(low.1, high.1), mix(low.2, high.2))
    }

    /// The heat map as an RGB image, sized to fit its cells and text.
    public func render() -> PNGImage {
        let rows = values.count, columns = values[0].count
        let finite = values.joined().filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min() ?? 0, high = range?.upperBound ?? finite.max() ?? 1
        let labelWidth = (labels?.joined().map { Canvas.textWidth($0) }.max() ?? 0)
        let cell = Swift.max(28, labelWidth + 8)
        let namesFit = columnNames.allSatisfy { Canvas.textWidth($0) <= cell - 2 }
        let shownRowNames = namesFit ? rowNames : rowNames.enumerated().map { "\($0.offset) \($0.element)" }
        let shownColumnNames = namesFit ? columnNames : (0..<columns).map(String.init)
        let line = BitmapFont.height + 5

        let left = 10 + (shownRowNames.map { Canvas.textWidth($0) }.max() ?? 0) + 8
        let top = 10 + (title == nil ? 0 : 2 * BitmapFont.height + 10) + (yLabel == nil ? 0 : line)
        let gridWidth = columns * cell, gridHeight = rows * cell
        let titleWidth = title.map { Canvas.textWidth($0, scale: 2) } ?? 0
        let width = Swift.max(left + gridWidth + 12, titleWidth + 20, Canvas.textWidth(xLabel ?? "") + left + 12)
        let height = top + gridHeight + 8 + line + (xLabel == nil ? 0 : line) + 6
        var canvas = Canvas(width: width, height: height, background: .white)

        if let title { canvas.text(title, x: (width - titleWidth) / 2, y: 8, .black, scale: 2) }
        if let yLabel { canvas.text(yLabel, x: 10, y: top - line, .black) }
        for r in 0..<rows {
            let y = top + r * cell
            canvas.text(shownRowNames[r], x: left - 8 - Canvas.textWidth(shownRowNames[r]),
                        y: y + (cell - BitmapFont.height) / 2, .black)
            for c in 0..<columns {
                let x = left + c * cell, v = values[r][c]
                let t = high > low ? Swift.min(Swift.max((v - low) / (high - low), 0), 1) : 0.5
                canvas.fill(x: x, y: y, width: cell, height: cell, v.isNaN ? .gray : Self.shade(t))
                if let text = labels?[r][c] {
                    canvas.text(text, x: x + (cell - Canvas.textWidth(text)) / 2, y: y + (cell - BitmapFont.height) / 2,
                                !v.isNaN && t > 0.5 ? .white : .black)
                }
            }
        }
        for c in 0..<columns {
            canvas.text(shownColumnNames[c], x: left + c * cell + (cell - Canvas.textWidth(shownColumnNames[c])) / 2,
                        y: top + gridHeight + 8, .black)
        }
        if let xLabel {
            canvas.text(xLabel, x: left + (gridWidth - Canvas.textWidth(xLabel)) / 2, y: top + gridHeight + 8 + line, .black)
        }
        return canvas.image
    }

    /// Renders the heat map and writes it as a PNG file at `url`.
    public func save(to url: URL) throws(DataError) {
        try render().save(to: url)
    }
}
