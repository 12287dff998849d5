import Foundation

/// Prints `message` to standard error and exits with status 1: how examples report bad input from outside.
public func exitWithError(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    exit(1)
}

/// Makes sure the program can write into `path` (an `--output-dir`) before any work starts: creates it with
/// its parents, then writes and removes a probe file. A directory that cannot be written stops the program
/// with a plain message (the option, the path and the system's reason) instead of failing after training.
public func requireWritableDirectory(_ path: String, option: String = "--output-dir") {
    let directory = URL(fileURLWithPath: path)
    let probe = directory.appendingPathComponent(".write-test-\(getpid())")
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data().write(to: probe)
        try FileManager.default.removeItem(at: probe)
    } catch {
        exitWithError("cannot write to \(option) \(path): \(plainReason(of: error))")
    }
}

/// The system's one-line reason for a file error (e.g. "Permission denied"), not Foundation's dump of it.
private func plainReason(of error: Error) -> String {
    let nsError = error as NSError
    let candidates = [nsError.userInfo[NSUnderlyingErrorKey] as? NSError, nsError].compactMap { $0 }
    if let posix = candidates.first(where: { $0.domain == NSPOSIXErrorDomain }) {
        return String(cString: strerror(Int32(posix.code)))
    }
    switch nsError.code {
    case NSFileWriteNoPermissionError: return "permission denied"
    case NSFileWriteVolumeReadOnlyError: return "read-only file system"
    case NSFileWriteOutOfSpaceError: return "no space left on device"
    default: return nsError.localizedDescription
    }
}

/// Tells users of a debug build that `-c release` is much faster.
public func warnIfDebugBuild(example: String) {
    #if DEBUG
    print("note: this is a debug build; `swift run -c release \(example)` runs many times faster.")
    #endif
}
