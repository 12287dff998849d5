import CZlib
import Foundation
import Glibc

/// Writes files so that a crash or a kill at any instant leaves either the old file or the complete new one:
/// the bytes go to a temporary file in the same directory, are flushed to the disk (`fsync`), and the file is
/// renamed over the target (atomic within a file system); the directory is then flushed too, so the rename
/// itself survives a power loss. ``CheckpointDirectory`` writes every file of a set this way; use it for any other file
/// that must never be seen half-written (an exported model beside the sets).
public enum AtomicFile {
    /// Writes `data` to `url` atomically and durably; the temporary file is removed when it throws.
    ///
    /// - Throws: ``CheckpointError/ioFailed(path:reason:)``.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent("\(temporaryPrefix(of: url))\(getpid())-\(UUID().uuidString)")
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

    /// Removes the temporary files that writes of `url` killed before their rename left beside it. Call it only
    /// while no other process writes `url`.
    public static func removeLeftovers(of url: URL) {
        let directory = url.deletingLastPathComponent(), prefix = temporaryPrefix(of: url)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(prefix) {
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    private static func temporaryPrefix(of url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

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

/// CRC-32 (IEEE 802.3, the checksum of zip and PNG), to tell a file that is whole from one that is not; zlib's
/// implementation, which reads several bytes per step (a set of a few megabytes is checked in milliseconds).
enum CRC32 {
    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw -> UInt32 in
            var crc = crc32(0, nil, 0)
            var offset = 0
            while offset < raw.count {
                let length = min(raw.count - offset, Int(UInt32.max >> 1))
                crc = crc32(crc, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length))
                offset += length
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }
}
