/// The largest images the PNG and PGM readers accept: at most ``maximumSide`` pixels wide and high,
/// and at most ``maximumPixelCount`` pixels in all.
///
/// An image's size comes from its header, which is outside data: without a bound, a file of a few
/// dozen bytes could declare 2^31 × 2^31 pixels and make a reader overflow or ask for exabytes.
/// Readers check the header against these bounds first and throw
/// ``DataError/Problem/invalidImage(_:)`` naming the file when it is over.
public enum ImageSizeLimit {
    /// The most pixels a side: 2^16 = 65,536.
    public static let maximumSide = 1 << 16
    /// The most pixels in all: 2^28 = 268,435,456 (16,384 × 16,384; 1 GiB as 8-bit RGBA).
    public static let maximumPixelCount = 1 << 28

    /// The number of pixels of a `width × height` image, or nil when a side is not positive or the image
    /// is over a bound (then ``describe(width:height:)`` says which).
    static func pixelCount(width: Int, height: Int) -> Int? {
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide else { return nil }
        return CheckedSize.product([width, height], limit: maximumPixelCount)
    }

    /// Why a `width × height` image is refused, in words.
    static func describe(width: Int, height: Int) -> String {
        if width <= 0 || height <= 0 { return "invalid size \(width)×\(height)" }
        return "size \(width)×\(height) is over the limit of \(maximumSide) pixels a side and "
            + "\(maximumPixelCount) pixels in all (ImageSizeLimit)"
    }
}
