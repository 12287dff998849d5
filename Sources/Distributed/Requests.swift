import CMPI
import Foundation

/// Starting, testing and waiting for non-blocking MPI operations. Every collective of the group goes through here, so
/// that one place watches for a stalled job: waiting polls the request and aborts the job after the collective
/// timeout instead of blocking inside MPI for ever.
extension ProcessGroup {
    /// Starts a non-blocking operation under the group's lock; aborts the job if MPI refuses it.
    func start(_ name: String, _ call: (UnsafeMutablePointer<MPI_Request?>) -> Int32) -> MPI_Request? {
        var request: MPI_Request?
        let code = lock.withLock { call(&request) }
        if code != MPI_SUCCESS { abort(Self.describe(code, name)) }
        return request
    }

    /// Whether the operation has completed; testing is also what lets MPI move a non-blocking collective along
    /// while this process computes.
    func test(_ request: inout MPI_Request?, _ name: String) -> Bool {
        guard request != nil else { return true }
        var done: Int32 = 0
        let code = lock.withLock { MPI_Test(&request, &done, cmpi_status_ignore()) }
        if code != MPI_SUCCESS { abort(Self.describe(code, name)) }
        if done != 0 { request = nil }
        return done != 0
    }

    /// The largest piece, in bytes, of one non-blocking all-reduce. Open MPI's non-blocking all-reduce (libnbc) moves
    /// one buffer of 8 MB or more at half the rate or less of the same buffer sent as 512 KB pieces in flight together
    /// (Docs/Distributed.md, "All-reduce"), so larger buffers go as pieces.
    static let allReducePieceBytes = 1 << 20

    /// Starts combining the `count` elements at `pointer` over every rank, in place, as pieces of at most
    /// ``allReducePieceBytes``: one request per piece, to be finished by `wait(_:_:)` on all of them.
    func startAllReduce(_ pointer: UnsafeMutableRawPointer, _ count: Int32, _ type: MPI_Datatype, _ operation: MPI_Op,
                        _ name: String) -> [MPI_Request?] {
        var elementBytes: Int32 = 0
        _ = lock.withLock { MPI_Type_size(type, &elementBytes) }
        let piece = Swift.max(1, Self.allReducePieceBytes / Swift.max(1, Int(elementBytes)))
        return stride(from: 0, to: Int(count), by: piece).map { first in
            let pieceCount = Int32(Swift.min(piece, Int(count) - first))
            return start(name) {
                MPI_Iallreduce(cmpi_in_place(), pointer + first * Int(elementBytes), pieceCount, type, operation,
                               communicator, $0)
            }
        }
    }

    /// Whether every operation has completed (completed ones become nil).
    func test(_ requests: inout [MPI_Request?], _ name: String) -> Bool {
        var all = true
        for i in requests.indices where !test(&requests[i], name) { all = false }
        return all
    }

    /// Waits for every operation; as `wait(_:_:)` for one.
    func wait(_ requests: inout [MPI_Request?], _ name: String) {
        let start = DispatchTime.now().uptimeNanoseconds
        while !test(&requests, name) { pause(since: start, name) }
    }

    /// Waits for the operation, polling; aborts the job when it has not completed within ``collectiveTimeout``.
    func wait(_ request: inout MPI_Request?, _ name: String) {
        let start = DispatchTime.now().uptimeNanoseconds
        while !test(&request, name) { pause(since: start, name) }
    }

    /// One turn of a wait that began at `start`: spin at first, as MPI's own blocking calls do, for latency; then
    /// yield, and after a while sleep a little, so that a rank waiting for a slower one leaves the cores to the ranks
    /// still computing; abort the job past ``collectiveTimeout``.
    private func pause(since start: UInt64, _ name: String) {
        let waited = DispatchTime.now().uptimeNanoseconds - start
        if waited < 200_000 { return }
        if waited < 20_000_000 { sched_yield(); return }
        if waited > UInt64(collectiveTimeout * 1e9) {
            abort("\(name) did not complete within \(collectiveTimeout) s: another rank has stopped or is not taking part (set AUTOGRAD_COLLECTIVE_TIMEOUT to wait longer)")
        }
        usleep(100)
    }

    static func describe(_ code: Int32, _ call: String) -> String {
        do { try check(code, call) } catch { return "\(error)" }
        return call
    }
}
