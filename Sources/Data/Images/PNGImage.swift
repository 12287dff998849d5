import Foundation

/// An 8-bit PNG image: its size, colour type and pixels; encodes to and decodes from PNG files.
///
/// Writing uses one IDAT chunk compressed with zlib's `compress2`, filter type 0 on every row.
/// Reading validates the whole file: the signature, the IHDR fields, every chunk's CRC-32, the
/// inflated image size and each row's filter (all five PNG filters are decoded), and throws
/// ``DataError`` naming the file on any fault.
///
/// Supported: bit depth 8; grayscale, RGB, grayscale + alpha and RGBA; no interlacing; sizes within
/// ``ImageSizeLimit``. Other PNGs are reported as unsupported. The image data is inflated only up to
/// the size the header declares, so a decompression bomb stops there.
///
/// ```swift
/// let gradient = PNGImage(width: 256, height: 1, colorType: .grayscale, pixels: (0...255).map(UInt8.init))
/// try gradient.save(to: URL(fileURLWithPath: "/tmp/gradient.png"))
/// ```
public struct PNGImage: Equatable, Sendable {
    /// The layout of a pixel.
    public enum ColorType: UInt8, Sendable {
        /// One gray byte per pixel.
        case grayscale = 0
        /// Red, green, blue bytes per pixel.
        case rgb = 2
        /// Gray and alpha bytes per pixel.
        case grayscaleAlpha = 4
        /// Red, green, blue, alpha bytes per pixel.
        case rgba = 6

        /// Bytes per pixel.
        public var channels: Int {
            switch self {
            case .grayscale: 1
            case .rgb: 3
            case .grayscaleAlpha: 2
            case .rgba: 4
            }
        }
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The layout of each pixel.
    public let colorType: ColorType
    /// Row-major pixels, ``ColorType/channels`` bytes each: `height × width × channels` bytes.
    public var pixels: [UInt8]

    /// The 8-byte signature every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// An image of the given size and pixels.
    ///
    /// - Precondition: positive size and `pixels.count == width * height * colorType.channels`.
    public init(width: Int, height: Int, colorType: ColorType, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max),
                     "PNGImage: invalid size \(width)×\(height)")
        precondition(pixels.count == width * height * colorType.channels,
                     "PNGImage: \(width)×\(height) \(colorType) needs \(width * height * colorType.channels) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.colorType = colorType
        self.pixels = pixels
    }

    /// The bytes of a PNG file holding this image.
    public func encoded() -> [UInt8] {
        let rowBytes = width * colorType.channels
        var raw = [UInt8]()
        raw.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            raw.append(0)   // filter type None
            raw += pixels[(y * rowBytes)..<((y + 1) * rowBytes)]
        }
        var ihdr = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        ihdr += [8, colorType.rawValue, 0, 0, 0]   // bit depth, colour type, compression, filter, interlace
        var out = PNGImage.signature
        appendChunk("IHDR", ihdr, to: &out)
        appendChunk("IDAT", Zlib.compress(raw), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// Writes the image as a PNG file at `url`.
    public func save(to url: URL) throws(DataError) {
        try FileIO.write(encoded(), to: url.path)
    }

    /// Reads and validates the PNG file at `path`.
    public init(contentsOf path: String) throws(DataError) {
        try self.init(decoding: FileIO.read(path), path: path)
    }

    /// Decodes and validates PNG `bytes`; `path` names their source in errors.
    public init(decoding bytes: [UInt8], path: String = "<memory>") throws(DataError) {
        func fail(_ reason: String) -> DataError { DataError(path: path, .invalidImage("PNG: " + reason)) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == PNGImage.signature else { throw fail("missing PNG signature") }

        var offset = 8
        var header: (width: Int, height: Int, colorType: ColorType)?
        var compressed = [UInt8]()
        var sawEnd = false
        while !sawEnd {
            guard offset + 12 <= bytes.count else { throw fail("truncated: chunk header at byte \(offset) runs past the end") }
            let length = Int(readBigEndian(bytes, at: offset))
            let typeBytes = bytes[(offset + 4)..<(offset + 8)]
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= Int(Int32.max), offset + 12 + length <= bytes.count else {
                throw fail("truncated: chunk \(type) at byte \(offset) declares \(length) bytes, file has \(bytes.count - offset - 12)")
            }
            let data = bytes[(offset + 8)..<(offset + 8 + length)]
            let stored = readBigEndian(bytes, at: offset + 8 + length)
            let computed = Zlib.crc32(bytes[(offset + 4)..<(offset + 8 + length)])
            guard stored == computed else {
                throw fail("CRC mismatch in chunk \(type) at byte \(offset): stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))")
            }
            if header == nil && type != "IHDR" { throw fail("first chunk is \(type), not IHDR") }
            switch type {
            case "IHDR":
                guard header == nil else { throw fail("second IHDR chunk") }
                guard length == 13 else { throw fail("IHDR has \(length) bytes, not 13") }
                let d = Array(data)
                let w = Int(readBigEndian(d, at: 0)), h = Int(readBigEndian(d, at: 4))
                guard ImageSizeLimit.pixelCount(width: w, height: h) != nil else { throw fail(ImageSizeLimit.describe(width: w, height: h)) }
                guard d[8] == 8 else { throw fail("unsupported bit depth \(d[8]) (only 8 is supported)") }
                guard let ct = ColorType(rawValue: d[9]) else {
                    throw fail("unsupported colour type \(d[9]) (supported: 0 gray, 2 RGB, 4 gray+alpha, 6 RGBA)")
                }
                guard d[10] == 0, d[11] == 0 else { throw fail("unknown compression \(d[10]) or filter method \(d[11])") }
                guard d[12] == 0 else { throw fail("interlaced images are not supported") }
                header = (w, h, ct)
            case "IDAT":
                compressed += data
            case "IEND":
                sawEnd = true
            default:
                // Ancillary chunks (lower-case first letter) and a suggested palette are ignored.
                let critical = typeBytes.first.map { $0 & 0x20 == 0 } ?? true
                if critical && type != "PLTE" { throw fail("unknown critical chunk \(type)") }
            }
            offset += 12 + length
        }
        guard let (width, height, colorType) = header else { throw fail("no IHDR chunk") }
        guard !compressed.isEmpty else { throw fail("no IDAT data") }
        // Within ImageSizeLimit: at most 2^30 pixel bytes plus 2^16 filter bytes, far from overflowing.
        let rowBytes = width * colorType.channels
        let expected = height * (rowBytes + 1)
        let raw: [UInt8]
        do {
            raw = try Zlib.inflate(compressed, format: .zlib, limit: expected)
        } catch {
            switch error {
            case .tooLarge:
                throw fail("image data inflates to more than the \(expected) bytes of a \(width)×\(height) \(colorType) image")
            case .corrupt(let reason):
                throw fail("image data does not inflate: \(reason)")
            }
        }
        guard raw.count == expected else {
            throw fail("image data is \(raw.count) bytes after inflating, expected \(expected) for \(width)×\(height) \(colorType)")
        }
        var pixels = [UInt8](repeating: 0, count: height * rowBytes)
        let bpp = colorType.channels
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            guard filter <= 4 else { throw fail("invalid filter type \(filter) on row \(y)") }
            let src = y * (rowBytes + 1) + 1, dst = y * rowBytes
            for i in 0..<rowBytes {
                let a = i >= bpp ? Int(pixels[dst + i - bpp]) : 0
                let b = y > 0 ? Int(pixels[dst - rowBytes + i]) : 0
                let c = (i >= bpp && y > 0) ? Int(pixels[dst - rowBytes + i - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default: predictor = paeth(a, b, c)
                }
                pixels[dst + i] = UInt8(truncatingIfNeeded: Int(raw[src + i]) + predictor)
            }
        }
        self.init(width: width, height: height, colorType: colorType, pixels: pixels)
    }
}

/// The Paeth predictor of PNG filter type 4.
private func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
    let p = a + b - c
    let pa = Swift.abs(p - a), pb = Swift.abs(p - b), pc = Swift.abs(p - c)
    if pa <= pb && pa <= pc { return a }
    return pb <= pc ? b : c
}

private func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
}

private func readBigEndian<C: Collection>(_ bytes: C, at offset: Int) -> UInt32 where C.Index == Int, C.Element == UInt8 {
    let s = bytes.startIndex + offset
    return UInt32(bytes[s]) << 24 | UInt32(bytes[s + 1]) << 16 | UInt32(bytes[s + 2]) << 8 | UInt32(bytes[s + 3])
}

private func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
    let typeBytes = Array(type.utf8)
    out += bigEndian(UInt32(data.count))
    out += typeBytes
    out += data
    out += bigEndian(Zlib.crc32(typeBytes + data))
}
