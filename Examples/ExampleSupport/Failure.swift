import Foundation

/// Prints `message` to standard error and exits with status 1: how examples report bad input from outside.
public func exitWithError(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    exit(1)
}

/// Tells users of a debug build that `-c release` is much faster.
public func warnIfDebugBuild(example: String) {
    #if DEBUG
    print("note: this is a debug build; `swift run -c release \(example)` runs many times faster.")
    #endif
}
