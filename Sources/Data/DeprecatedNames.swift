import Foundation

// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

extension Transform where Input == Int, Output == Tensor {
    @available(*, deprecated, renamed: "oneHot(classCount:dtype:)")
    public static func oneHot(classes: Int, dtype: DType = .float32) -> Transform { oneHot(classCount: classes, dtype: dtype) }
}

@available(*, deprecated, renamed: "oneHot(_:classCount:dtype:)")
public func oneHot(_ labels: [Int], classes: Int, dtype: DType = .float32) -> Tensor {
    oneHot(labels, classCount: classes, dtype: dtype)
}

// Files are named by `URL` and written by `save(to:)`, as `Module.save(to:)` and Foundation's `Data.write(to:)` take
// a URL; the path-string writers forward.

extension PNGImage {
    @available(*, deprecated, message: "use save(to: URL(fileURLWithPath: path))")
    public func write(to path: String) throws(DataError) { try save(to: URL(fileURLWithPath: path)) }
}

extension Plot {
    @available(*, deprecated, message: "use save(to: URL(fileURLWithPath: path))")
    public func write(to path: String) throws(DataError) { try save(to: URL(fileURLWithPath: path)) }
}

extension ImageGrid {
    @available(*, deprecated, message: "use save(_:to: URL(fileURLWithPath: path), columns:…)")
    public static func write(_ images: Tensor, to path: String, columns: Int, rows: Int? = nil, padding: Int = 2,
                             range: ClosedRange<Double> = 0...1) throws(DataError) {
        try save(images, to: URL(fileURLWithPath: path), columns: columns, rows: rows, padding: padding, range: range)
    }
}

extension IDXFile {
    @available(*, deprecated, message: "use save(to: URL(fileURLWithPath: path), gzip:)")
    public func write(to path: String, gzip: Bool = false) throws(DataError) {
        try save(to: URL(fileURLWithPath: path), gzip: gzip)
    }
}

extension CIFARBinaryFile {
    @available(*, deprecated, message: "use save(to: URL(fileURLWithPath: path), gzip:)")
    public func write(to path: String, gzip: Bool = false) throws(DataError) {
        try save(to: URL(fileURLWithPath: path), gzip: gzip)
    }
}

extension Tokenizer {
    @available(*, deprecated, message: "use save(to: URL(fileURLWithPath: path))")
    public func save(to path: String) throws(DataError) { try save(to: URL(fileURLWithPath: path)) }
}
