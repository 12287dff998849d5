import CMPI
import Foundation
import Synchronization

/// The processes of one data-parallel job, started by `mpirun`: this process's rank, how many there are, and the
/// collective operations between them (PyTorch's default process group, over MPI).
///
/// ```swift
/// let group = try ProcessGroup.world()
/// if group.isMain { print("training on \(group.worldSize) processes") }
/// let total = group.allReduce(Tensor([Float(group.rank)]))   // 0 + 1 + … on every rank
/// ```
///
/// Run the program under `mpirun -n <N>`; started directly it is a group of one. The group is one per process:
/// ``world(collectiveTimeout:)`` initialises MPI on first use and returns the same group afterwards; MPI is finalized
/// when the process exits normally.
///
/// ## Failures
///
/// A rank that stops — it crashes, is killed, or exits with a non-zero status (`exit(1)` calls `MPI_Abort`) — makes
/// `mpirun` stop the others. A rank that throws should not leave the others waiting: run the program's body in
/// ``abortingOnError(_:)``, which prints the error and calls `MPI_Abort`, ending every rank. A rank that only stalls (a deadlock, a rank that skipped
/// a collective) is caught by the collective timeout: a collective that has not completed after
/// ``collectiveTimeout`` seconds aborts the job with a message naming it.
///
/// ## Threads
///
/// MPI is initialised with `MPI_THREAD_SERIALIZED`, and the group serialises its own calls, so any thread may use it;
/// every rank must still call the same collectives in the same order.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's index in the group, from 0 to `worldSize − 1`.
    public let rank: Int
    /// The number of processes in the group.
    public let worldSize: Int
    /// This process's index among the processes of the group on its machine (`OMPI_COMM_WORLD_LOCAL_RANK`, 0 when
    /// not started by Open MPI's `mpirun`).
    public let localRank: Int
    /// Seconds a collective may take before the job is aborted as stalled.
    public let collectiveTimeout: Double

    let communicator: MPI_Comm
    /// Serialises this process's MPI calls, as `MPI_THREAD_SERIALIZED` requires.
    let lock = NSLock()

    private static let shared = Mutex<ProcessGroup?>(nil)

    /// Whether this process was started by Open MPI's `mpirun` (rather than directly, as a group of one).
    public static var isLaunchedByMPIRun: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// The group of every process `mpirun` started, initialising MPI on the first call.
    ///
    /// - Parameter collectiveTimeout: seconds after which a collective that has not completed aborts the job (the
    ///   environment variable `AUTOGRAD_COLLECTIVE_TIMEOUT` overrides it). Only the first call's value counts.
    /// - Throws: ``DistributedError`` when MPI cannot start or lacks thread support.
    public static func world(collectiveTimeout: Double = 600) throws -> ProcessGroup {
        try shared.withLock { group in
            if let group { return group }
            var finalized: Int32 = 0
            MPI_Finalized(&finalized)
            if finalized != 0 { throw DistributedError.finalized }
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
            guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
                throw DistributedError.insufficientThreadSupport(provided: provided)
            }
            let timeout = ProcessInfo.processInfo.environment["AUTOGRAD_COLLECTIVE_TIMEOUT"].flatMap(Double.init)
            let made = try ProcessGroup(communicator: cmpi_comm_world(), collectiveTimeout: timeout ?? collectiveTimeout)
            // MPI_Finalize waits for every rank, so a rank that exits with an error must abort the job instead,
            // or the others would wait for it until their collectives time out.
            on_exit({ status, _ in ProcessGroup.endAtExit(status: status) }, nil)
            group = made
            return made
        }
    }

    private init(communicator: MPI_Comm, collectiveTimeout: Double) throws {
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(MPI_Comm_rank(communicator, &rank), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(communicator, &size), "MPI_Comm_size")
        self.communicator = communicator
        self.rank = Int(rank)
        self.worldSize = Int(size)
        self.localRank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap(Int.init) ?? 0
        self.collectiveTimeout = collectiveTimeout
    }

    /// Whether this is rank 0, the rank that logs and writes checkpoints.
    public var isMain: Bool { rank == 0 }

    /// Runs `body`; if it throws, prints the error with this rank's number and aborts every rank of the job
    /// (`MPI_Abort`), so that no rank waits forever for one that has given up.
    public func abortingOnError<R>(_ body: () throws -> R) -> R {
        do {
            return try body()
        } catch {
            abort("\(error)")
        }
    }

    /// Prints `message` to standard error with this rank's number and ends every process of the job with exit
    /// status `code` (`MPI_Abort`).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): error: \(message)\n".utf8))
        MPI_Abort(communicator, code)
        exit(code)
    }

    private static func endAtExit(status: Int32) {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        guard finalized == 0 else { return }
        if status == 0 { MPI_Finalize() } else { MPI_Abort(cmpi_comm_world(), status) }
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != MPI_SUCCESS else { return }
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        throw DistributedError.mpiFailed(call: call, code: code, message: String(cString: buffer))
    }
}
