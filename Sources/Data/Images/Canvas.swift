/// An RGB colour with 8-bit channels.
public struct RGB: Equatable, Hashable, Sendable {
    /// Red, green and blue, 0...255.
    public var r: UInt8, g: UInt8, b: UInt8

    /// A colour from its channels.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    /// (0, 0, 0).
    public static let black = RGB(0, 0, 0)
    /// (255, 255, 255).
    public static let white = RGB(255, 255, 255)
    /// (128, 128, 128).
    public static let gray = RGB(128, 128, 128)
    /// (225, 225, 225), for grid lines.
    public static let lightGray = RGB(225, 225, 225)

    /// Distinct line colours (matplotlib's "tab10" cycle), used in order for plot series.
    public static let palette: [RGB] = [
        RGB(31, 119, 180), RGB(255, 127, 14), RGB(44, 160, 44), RGB(214, 39, 40), RGB(148, 103, 189),
        RGB(140, 86, 75), RGB(227, 119, 194), RGB(127, 127, 127), RGB(188, 189, 34), RGB(23, 190, 207),
    ]
}

/// A small RGB raster with the drawing primitives plots need: rectangles, lines and bitmap text.
/// Drawing outside the canvas is clipped.
struct Canvas {
    let width: Int, height: Int
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: RGB) {
        precondition(width > 0 && height > 0, "Canvas: invalid size \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    mutating func set(_ x: Int, _ y: Int, _ color: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
    }

    func color(at x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB) {
        let x0 = Swift.max(0, x), x1 = Swift.min(width, x + w), y0 = Swift.max(0, y), y1 = Swift.min(height, y + h)
        guard x0 < x1 && y0 < y1 else { return }
        for yy in y0..<y1 {
            for xx in x0..<x1 { set(xx, yy, color) }
        }
    }

    /// A line from `(x0, y0)` to `(x1, y1)` (Bresenham), `thickness` pixels wide.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: RGB, thickness: Int = 1) {
        var x = x0, y = y0
        let dx = Swift.abs(x1 - x0), dy = -Swift.abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            for oy in lo...hi { for ox in lo...hi { set(x + ox, y + oy, color) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// The width in pixels of `text` drawn at `scale`.
    static func textWidth(_ text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * (BitmapFont.width + 1) - 1) * scale
    }

    /// `text` with its top-left corner at `(x, y)`, each font pixel a `scale × scale` square.
    mutating func text(_ text: String, x: Int, y: Int, _ color: RGB, scale: Int = 1) {
        var cx = x
        for character in text {
            let glyph = BitmapFont.glyph(character)
            for (row, bits) in glyph.enumerated() {
                for col in 0..<BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - col)) != 0 {
                    fill(x: cx + col * scale, y: y + row * scale, width: scale, height: scale, color)
                }
            }
            cx += (BitmapFont.width + 1) * scale
        }
    }

    var image: PNGImage { PNGImage(width: width, height: height, colorType: .rgb, pixels: pixels) }
}
