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

    /// Waits for the operation, polling; aborts the job when it has not completed within ``collectiveTimeout``.
    func wait(_ request: inout MPI_Request?, _ name: String) {
        let start = DispatchTime.now().uptimeNanoseconds
        let timeout = UInt64(collectiveTimeout * 1e9)
        while !test(&request, name) {
            let waited = DispatchTime.now().uptimeNanoseconds - start
            // Spin at first, as MPI's own blocking calls do, for latency; then yield, and after a while sleep a
            // little, so that a rank waiting for a slower one leaves the cores to the ranks still computing.
            if waited < 200_000 { continue }
            if waited < 20_000_000 { sched_yield(); continue }
            if waited > timeout {
                abort("\(name) did not complete within \(collectiveTimeout) s: another rank has stopped or is not taking part (set AUTOGRAD_COLLECTIVE_TIMEOUT to wait longer)")
            }
            usleep(100)
        }
    }

    static func describe(_ code: Int32, _ call: String) -> String {
        do { try check(code, call) } catch { return "\(error)" }
        return call
    }
}
