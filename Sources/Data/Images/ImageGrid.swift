import Foundation

/// Tiles images into one grid picture (torchvision's `make_grid` + `save_image`).
public enum ImageGrid {
    /// `images` tiled into a grid of `rows × columns` cells, row by row, with `padding` pixels around
    /// and between the cells.
    ///
    /// - Parameters:
    ///   - images: `[N, H, W]` or `[N, 1, H, W]` (grayscale) or `[N, 3, H, W]` (RGB).
    ///   - columns: cells per row.
    ///   - rows: rows of cells; by default just enough for `N` images. Cells past the last image stay
    ///     `padValue`.
    ///   - padding: pixels between cells and around the grid.
    ///   - padValue: the gray level (0–255) of those pixels and of empty cells.
    ///   - range: the values shown as black and white; values outside are clamped, NaN shown as black.
    ///     Use `-1...1` for a generator with `tanh` output, `0...1` for data scaled to [0, 1].
    /// - Returns: an image `columns·W + (columns+1)·padding` wide and `rows·H + (rows+1)·padding` high.
    /// - Precondition: a valid shape, `N ≤ rows × columns`, `padding ≥ 0`, a non-degenerate range.
    public static func make(_ images: Tensor, columns: Int, rows: Int? = nil, padding: Int = 2,
                            range: ClosedRange<Double> = 0...1, padValue: UInt8 = 0) -> PNGImage {
        precondition(images.rank == 3 || (images.rank == 4 && (images.shape[1] == 1 || images.shape[1] == 3)),
                     "ImageGrid.make: expected [N, H, W], [N, 1, H, W] or [N, 3, H, W], got \(images.shape)")
        precondition(columns > 0 && padding >= 0, "ImageGrid.make: columns \(columns) and padding \(padding) are invalid")
        precondition(range.upperBound > range.lowerBound, "ImageGrid.make: range \(range) is empty")
        let n = images.shape[0]
        let channels = images.rank == 4 ? images.shape[1] : 1
        let h = images.shape[images.rank - 2], w = images.shape[images.rank - 1]
        let rows = rows ?? Swift.max(1, (n + columns - 1) / columns)
        precondition(n <= rows * columns, "ImageGrid.make: \(n) images do not fit in \(rows)×\(columns) cells")
        precondition(h > 0 && w > 0, "ImageGrid.make: empty images of shape \(images.shape)")
        let width = columns * w + (columns + 1) * padding
        let height = rows * h + (rows + 1) * padding
        var pixels = [UInt8](repeating: padValue, count: width * height * channels)
        let low = range.lowerBound, span = range.upperBound - range.lowerBound
        let values = images.doubles
        for k in 0..<n {
            let top = padding + (k / columns) * (h + padding), left = padding + (k % columns) * (w + padding)
            for c in 0..<channels {
                for y in 0..<h {
                    for x in 0..<w {
                        let v = values[((k * channels + c) * h + y) * w + x]
                        let t = v.isNaN ? 0 : Swift.min(Swift.max((v - low) / span, 0), 1)
                        pixels[((top + y) * width + left + x) * channels + c] = UInt8((t * 255).rounded())
                    }
                }
            }
        }
        return PNGImage(width: width, height: height, colorType: channels == 1 ? .grayscale : .rgb, pixels: pixels)
    }

    /// Tiles `images` as ``make(_:columns:rows:padding:range:padValue:)`` and writes the PNG to `url`.
    public static func save(_ images: Tensor, to url: URL, columns: Int, rows: Int? = nil, padding: Int = 2,
                            range: ClosedRange<Double> = 0...1) throws(DataError) {
        try make(images, columns: columns, rows: rows, padding: padding, range: range).save(to: url)
    }
}
