import Foundation
import Testing
@testable import Data

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("DataTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/name`.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// `path/name` as a file URL, for the writers' `save(to:)`.
    func url(_ name: String) -> URL { URL(fileURLWithPath: file(name)) }

    /// Writes `bytes` to `path/name` and returns the full path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let p = file(name)
        try Foundation.Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// The error thrown by `body`, which must throw a `DataError`.
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let e as DataError {
        return e
    } catch {
        Issue.record("expected DataError, got \(error)")
        return nil
    }
}

/// A deterministic image set: `count` images of `rows × cols` with pixel `(i * 7 + p) % 256`, labels `i % 10`.
func syntheticMNIST(count: Int, rows: Int = 4, cols: Int = 3) -> (images: IDXFile, labels: IDXFile) {
    let pixels = (0..<(count * rows * cols)).map { UInt8(($0 / (rows * cols) * 7 + $0 % (rows * cols)) % 256) }
    return (IDXFile(dimensions: [count, rows, cols], bytes: pixels),
            IDXFile(dimensions: [count], bytes: (0..<count).map { UInt8($0 % 10) }))
}
