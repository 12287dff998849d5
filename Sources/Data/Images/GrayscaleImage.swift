/// Reading single grayscale images into tensors (for predicting on an image file).
public enum GrayscaleImage {
    /// The image at `path` as a float32 tensor `[1, height, width]` with values in [0, 1].
    ///
    /// The format is recognised by its first bytes, not the file name:
    /// - binary PGM (`P5`) with a maximum value up to 255 (one byte per pixel) or up to 65535 (two
    ///   bytes, big-endian); values are divided by the maximum value;
    /// - 8-bit PNG: grayscale as is; RGB converted to luminance `0.299 R + 0.587 G + 0.114 B`
    ///   (as PIL's `convert("L")`); alpha ignored. Values are divided by 255.
    ///
    /// - Throws: ``DataError`` naming `path` when the file is missing, in another format, malformed,
    ///   larger than ``ImageSizeLimit``, or (PGM) followed by more bytes than its pixels.
    public static func load(_ path: String) throws(DataError) -> Tensor {
        try decode(FileIO.read(path), path: path)
    }

    /// The image file `bytes` (PNG or binary PGM, as ``load(_:)`` reads) as a tensor; `path` names them in errors.
    static func decode(_ bytes: [UInt8], path: String) throws(DataError) -> Tensor {
        if bytes.starts(with: PNGImage.signature) {
            return try tensor(PNGImage(decoding: bytes, path: path))
        }
        if bytes.starts(with: Array("P5".utf8)) {
            return try decodePGM(bytes, path: path)
        }
        throw DataError(path: path, .invalidImage("not a PNG or binary PGM (P5) file"))
    }

    /// A PNG image's luminance as a float32 tensor `[1, height, width]` in [0, 1].
    public static func tensor(_ image: PNGImage) -> Tensor {
        let n = image.width * image.height, c = image.colorType.channels
        var values = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n {
                switch image.colorType {
                case .grayscale, .grayscaleAlpha:
                    values[i] = Float(p[i * c]) / 255
                case .rgb, .rgba:
                    let luminance = 0.299 * Float(p[i * c]) + 0.587 * Float(p[i * c + 1]) + 0.114 * Float(p[i * c + 2])
                    values[i] = Swift.min(luminance, 255) / 255
                }
            }
        }
        return Tensor(shape: [1, image.height, image.width], scalars: values)
    }

    /// Decodes a binary PGM (`P5`) file: header `P5 width height maxval` separated by whitespace, with
    /// `#` comments, then one whitespace byte and the pixels, which end the file (a second image
    /// after the first is refused as trailing data rather than ignored).
    static func decodePGM(_ bytes: [UInt8], path: String) throws(DataError) -> Tensor {
        func fail(_ reason: String) -> DataError { DataError(path: path, .invalidImage("PGM: " + reason)) }
        var i = 2
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        func nextNumber(_ name: String) throws(DataError) -> Int {
            while i < bytes.count && (isSpace(bytes[i]) || bytes[i] == UInt8(ascii: "#")) {
                if bytes[i] == UInt8(ascii: "#") {
                    while i < bytes.count && bytes[i] != 0x0A && bytes[i] != 0x0D { i += 1 }
                } else {
                    i += 1
                }
            }
            var value = 0, digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 10 {
                value = value * 10 + Int(bytes[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw fail("missing or malformed \(name) in header") }
            return value
        }
        guard bytes.count > 2, isSpace(bytes[2]) else { throw fail("malformed magic number") }
        let width = try nextNumber("width"), height = try nextNumber("height"), maxValue = try nextNumber("maximum value")
        guard let pixelCount = ImageSizeLimit.pixelCount(width: width, height: height) else {
            throw fail(ImageSizeLimit.describe(width: width, height: height))
        }
        guard maxValue > 0, maxValue < 65536 else { throw fail("maximum value \(maxValue) outside 1...65535") }
        guard i < bytes.count, isSpace(bytes[i]) else { throw fail("no whitespace after the header") }
        i += 1
        let bytesPerPixel = maxValue < 256 ? 1 : 2
        let expected = pixelCount * bytesPerPixel   // at most 2^29 within ImageSizeLimit
        guard bytes.count - i >= expected else {
            throw DataError(path: path, .truncated(expected: i + expected, got: bytes.count))
        }
        // One image per file: bytes after it would be lost without a word.
        guard bytes.count - i == expected else {
            throw DataError(path: path, .trailingData(expected: i + expected, got: bytes.count))
        }
        let values = (0..<pixelCount).map { p -> Float in
            let v = bytesPerPixel == 1 ? Int(bytes[i + p]) : Int(bytes[i + 2 * p]) << 8 | Int(bytes[i + 2 * p + 1])
            return Swift.min(Float(v) / Float(maxValue), 1)
        }
        return Tensor(shape: [1, height, width], scalars: values)
    }

    /// The bytes of a binary PGM (`P5`, maximum value 255) file holding 8-bit `pixels` of `width × height`.
    public static func encodePGM(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "GrayscaleImage.encodePGM: \(width)×\(height) needs \(width * height) bytes, got \(pixels.count)")
        return Array("P5\n\(width) \(height)\n255\n".utf8) + pixels
    }
}
