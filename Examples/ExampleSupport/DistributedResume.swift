import Distributed

/// The ranks of a data-parallel run resumed at different points: each rank reads the checkpoint directory itself,
/// and one that found no set (a directory not shared between machines) would start over while the others go on.
public struct ResumeMismatchError: Error, CustomStringConvertible {
    /// Where each rank resumed (an epoch or a step), by rank.
    public let points: [Int]
    /// What a point counts, e.g. "epoch".
    public let unit: String
    /// The checkpoint directory every rank read.
    public let directory: String

    public var description: String {
        "the ranks resumed after different \(unit)s (" + points.enumerated().map { "rank \($0): \($1)" }.joined(separator: ", ")
            + "); every rank reads \(directory), which must hold the same sets on every machine"
    }
}

/// Throws ``ResumeMismatchError`` unless every rank of `group` resumed after the same `point`; does nothing in one
/// process. Call it on every rank before training starts: ranks that disagree would otherwise run different numbers
/// of steps and stall at the first collective that some of them no longer make.
public func requireRanksResumedAlike(_ point: Int, group: ProcessGroup?, unit: String, directory: String) throws {
    guard let group else { return }
    let points = group.allGather(Tensor(shape: [1], scalars: [Double(point)])).doubles.map { Int($0) }
    guard Set(points).count == 1 else { throw ResumeMismatchError(points: points, unit: unit, directory: directory) }
}
