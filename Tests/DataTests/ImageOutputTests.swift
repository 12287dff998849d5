import Foundation
import Testing
@testable import Data

@Suite struct ImageGridTests {
    @Test func tilesImagesWithPaddingAndRange() throws {
        // Four 2×3 images with constant values -1, 0, 1 and 5 (clamped) in the range -1...1.
        let values: [Double] = [-1, 0, 1, 5]
        let images = Tensor(shape: [4, 1, 2, 3], scalars: values.flatMap { [Double](repeating: $0, count: 6) }, dtype: .float32)
        let grid = ImageGrid.make(images, columns: 3, padding: 1, range: -1...1, padValue: 77)
        #expect(grid.width == 3 * 3 + 4 * 1 && grid.height == 2 * 2 + 3 * 1)
        #expect(grid.colorType == .grayscale)
        func pixel(_ x: Int, _ y: Int) -> UInt8 { grid.pixels[y * grid.width + x] }
        #expect(pixel(0, 0) == 77)                                  // padding
        #expect(pixel(1, 1) == 0 && pixel(3, 2) == 0)               // image 0: -1 → black
        #expect(pixel(5, 1) == 128)                                 // image 1: 0 → mid gray
        #expect(pixel(9, 1) == 255)                                 // image 2: 1 → white
        #expect(pixel(1, 4) == 255)                                 // image 3 (second row): clamped
        #expect(pixel(5, 4) == 77)                                  // empty cell
        let decoded = try PNGImage(decoding: grid.encoded())
        #expect(decoded == grid)
    }

    @Test func rank3AndRGBInputsAndFileOutput() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = dir.file("grid.png")
        try ImageGrid.save(Tensor.rand([10, 28, 28]), to: URL(fileURLWithPath: path), columns: 5)
        let png = try PNGImage(contentsOf: path)
        #expect(png.width == 5 * 28 + 6 * 2 && png.height == 2 * 28 + 3 * 2 && png.colorType == .grayscale)
        let rgb = ImageGrid.make(Tensor.rand([2, 3, 4, 4]), columns: 2, rows: 3, padding: 0)
        #expect(rgb.colorType == .rgb && rgb.width == 8 && rgb.height == 12)
    }
}

@Suite struct LinePlotTests {
    @Test func plotRendersValidPNGOfTheRequestedSizeWithSeriesColours() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        var plot = LinePlot(title: "Training", xLabel: "step", yLabel: "value", width: 640, height: 360)
        plot.add("train loss", y: (0..<200).map { 2.3 * Foundation.exp(-Double($0) / 50) + 0.1 })
        plot.add("test accuracy %", x: [50, 100, 150, 200], y: [0.71, 0.8, 0.84, .nan])
        let path = dir.file("plot.png")
        try plot.save(to: URL(fileURLWithPath: path))
        let png = try PNGImage(contentsOf: path)
        #expect(png.width == 640 && png.height == 360 && png.colorType == .rgb)
        var colours = Set<RGB>()
        for i in stride(from: 0, to: png.pixels.count, by: 3) {
            colours.insert(RGB(png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]))
        }
        #expect(colours.contains(RGB.palette[0]) && colours.contains(RGB.palette[1]))
        #expect(colours.contains(.black) && colours.contains(.white))
    }

    @Test func degenerateSeriesStillRender() {
        var plot = LinePlot(width: 200, height: 150)
        plot.add("constant", y: [3, 3, 3])
        plot.add("empty", y: [])
        plot.add("nan", y: [.nan, .infinity])
        let png = plot.render()
        #expect(png.width == 200 && png.height == 150)
        #expect(LinePlot().render().width == 800)
    }

    @Test func ticksAreRoundAndCoverTheData() {
        let ticks = niceTicks([0.13, 2.41], pad: false)
        #expect(ticks.first! <= 0.13 && ticks.last! >= 2.41)
        #expect(ticks == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect(labels(ticks) == ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"])
        #expect(labels(niceTicks([0, 1000], pad: false)) == ["0", "200", "400", "600", "800", "1000"])
        let around5 = niceTicks([5], pad: false)
        #expect(around5.first! < 5 && around5.last! > 5 && labels(around5).contains("5.0"))
    }

    @Test func fontCoversLabelCharacters() {
        for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-%:/()=+,_? " {
            let g = BitmapFont.glyph(c)
            #expect(g.count == 7 && g.allSatisfy { $0 < 32 }, "glyph \(c)")
        }
        #expect(BitmapFont.glyph("a") == BitmapFont.glyph("A"))
        #expect(BitmapFont.glyph("~") == BitmapFont.glyph("?"))
        var canvas = Canvas(width: 20, height: 9, background: .white)
        canvas.text("1", x: 0, y: 0, .black)
        // "1": 00100 01100 00100 ... 01110
        #expect(canvas.color(at: 2, 0) == .black && canvas.color(at: 0, 0) == .white && canvas.color(at: 1, 1) == .black)
        #expect(Canvas.textWidth("AB") == 11 && Canvas.textWidth("AB", scale: 2) == 22)
    }
}

@Suite struct PlotKindsTests {
    /// The colours of every pixel of `png`, counted.
    func colourCounts(_ png: PNGImage) -> [RGB: Int] {
        var counts: [RGB: Int] = [:]
        for i in stride(from: 0, to: png.pixels.count, by: 3) {
            counts[RGB(png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]), default: 0] += 1
        }
        return counts
    }

    @Test func scatterDrawsMarkersWithoutJoiningThem() {
        let red = RGB(214, 39, 40), blue = RGB(31, 119, 180)
        var scatter = Plot(width: 400, height: 300, legend: .hidden)
        // A line sets the axes; the markers lie inside them, clear of the axes and the line.
        scatter.add("range", x: [-1, 11], y: [-1, 11], color: blue)
        scatter.scatter("points", x: [2, 8], y: [4, 6], color: red)
        var line = Plot(width: 400, height: 300, legend: .hidden)
        line.add("line", x: [0, 10], y: [0, 10], color: blue)
        // Two 5×5 markers, against a diagonal line hundreds of pixels long.
        #expect(colourCounts(scatter.render())[red] == 50)
        #expect(colourCounts(line.render())[blue, default: 0] > 400)
    }

    @Test func histogramCountsFollowNumPy() {
        // numpy.histogram([0, 1, 1, 2, 3, 3, 3, 4], bins=4) → [1, 2, 1, 4] over edges 0, 1, 2, 3, 4.
        let h = Histogram([0, 1, 1, 2, 3, 3, 3, 4, .nan], bins: 4)
        #expect(h.edges == [0, 1, 2, 3, 4] && h.counts == [1, 2, 1, 4])
        #expect(h.centers == [0.5, 1.5, 2.5, 3.5] && h.binWidth == 1)
        // With a range, values outside are left out; a single value gets a unit-wide range.
        #expect(Histogram([-1, 0.5, 9], bins: 2, range: 0...2).counts == [1, 0])
        #expect(Histogram([5, 5], bins: 1).edges == [4.5, 5.5])
    }

    @Test func histogramBarsFillTheirShareOfThePlot() {
        let green = RGB(44, 160, 44)
        var one = Plot(width: 400, height: 300, legend: .hidden)
        one.histogram("h", values: [1, 2, 2, 2], bins: 2, color: green)
        var more = Plot(width: 400, height: 300, legend: .hidden)
        more.histogram("h", values: [1, 1, 1, 2, 2, 2], bins: 2, color: green)
        // Same axes (counts 1 and 3 against 3 and 3); the second's bars cover more pixels.
        let a = colourCounts(one.render())[green, default: 0], b = colourCounts(more.render())[green, default: 0]
        #expect(a > 1000 && b > a)
    }

    @Test func aSummaryLegendWritesMoreThanAPlainOne() {
        func blackPixels(_ legend: Plot.Legend) -> Int {
            var plot = Plot(width: 600, height: 300, legend: legend)
            plot.add("loss", y: [3, 2, 1.5, 1.25])
            return colourCounts(plot.render())[.black, default: 0]
        }
        #expect(blackPixels(.hidden) < blackPixels(.plain) && blackPixels(.plain) < blackPixels(.summary))
    }

    @Test func saveWritesThePNGAtTheURL() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        var plot = Plot(width: 300, height: 200)
        plot.add("y", y: [1, 2, 3])
        let url = URL(fileURLWithPath: dir.file("plot.png"))
        try plot.save(to: url)
        #expect(try PNGImage(contentsOf: url.path) == plot.render())
    }

    @Test func heatMapShadesCellsByValueAndNumbersLongNames() throws {
        let map = HeatMap(values: [[0, 1], [0.5, .nan]], labels: [["0", "9"], ["4", "?"]],
                          rowNames: ["a", "b"], columnNames: ["a", "b"], range: 0...1)
        let counts = colourCounts(map.render())
        // 28-pixel cells: the white-ish low end, the dark high end, the middle and the NaN grey.
        #expect(counts[HeatMap.shade(0), default: 0] > 600 && counts[HeatMap.shade(1), default: 0] > 600)
        #expect(counts[HeatMap.shade(0.5), default: 0] > 600 && counts[.gray, default: 0] > 600)
        let long = HeatMap(values: [[1]], rowNames: ["a long class name"], columnNames: ["a long class name"])
        #expect(long.render().width > Canvas.textWidth("0 a long class name"))
    }
}
