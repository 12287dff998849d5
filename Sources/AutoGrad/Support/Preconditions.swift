// The checks a caller can trip (shapes, axes, arguments, a freed graph, the anomaly detector) stop the program
// with their message in every build. The standard library's `precondition` and `preconditionFailure` drop the
// message from optimised builds, which left a user of `-c release` with "precondition failure" and neither the
// op nor the shapes. These two shadow them in every module of the package (declarations of an imported module
// shadow the standard library's), so each call site keeps its form; `fatalError` keeps its message everywhere.
// The message is built only on failure, and the check inlines to one compare and branch.

/// Stops the program with `message` (and the call site) when `condition` is false, in every build configuration.
@inlinable @inline(__always)
package func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
                          file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}

/// Stops the program with `message` (and the call site), in every build configuration.
@inlinable @inline(__always)
package func preconditionFailure(_ message: @autoclosure () -> String = String(), file: StaticString = #fileID,
                                 line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
