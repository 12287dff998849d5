import Foundation
import Glibc

/// Writes files so that a crash or a kill at any instant leaves either the old file or the complete new one:
/// the bytes go to a temporary file in the same directory, are flushed to the disk (`fsync`), and the file is
/// renamed over the target (atomic within a file system); the directory is then flushed too, so the rename
/// itself survives a power loss.
enum AtomicFile {
    /// Writes `data` to `url` atomically and durably.
    ///
    /// - Throws: ``CheckpointError/ioFailed(path:reason:)``.
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.ioFailed(path: temporary.path, reason: "cannot create: \(errnoText())") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw CheckpointError.ioFailed(path: temporary.path, reason: "write failed: \(errnoText())")
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw CheckpointError.ioFailed(path: temporary.path, reason: "fsync failed: \(errnoText())") }
            closed = true
            guard close(fd) == 0 else { throw CheckpointError.ioFailed(path: temporary.path, reason: "close failed: \(errnoText())") }
            guard Glibc.rename(temporary.path, url.path) == 0 else {
                throw CheckpointError.ioFailed(path: url.path, reason: "rename failed: \(errnoText())")
            }
        } catch {
            unlink(temporary.path)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    /// Flushes a directory's entries (a rename or a new file in it) to the disk.
    static func synchronizeDirectory(_ directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.ioFailed(path: directory.path, reason: "cannot open directory: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError.ioFailed(path: directory.path, reason: "fsync failed: \(errnoText())") }
    }

    /// Renames `source` to `destination` (atomic; `destination` must not be a non-empty directory).
    static func rename(_ source: URL, to destination: URL) throws {
        guard Glibc.rename(source.path, destination.path) == 0 else {
            throw CheckpointError.ioFailed(path: destination.path, reason: "rename from \(source.lastPathComponent) failed: \(errnoText())")
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// CRC-32 (IEEE 802.3, the checksum of zip and PNG), to tell a file that is whole from one that is not.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            data.withUnsafeBytes { bytes in
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
