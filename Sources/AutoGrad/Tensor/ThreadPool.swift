import CKernels
import CVectorMath
import Foundation
import Synchronization

/// Persistent worker threads behind ``Parallel`` (and the matrix products, which it splits).
///
/// Why not `DispatchQueue.concurrentPerform`: a training step runs hundreds of parallel loops of tens
/// of microseconds each, and handing each to a sleeping Dispatch worker cost about as much as the loop.
/// Why not OpenBLAS's own threads: they spin for about 0.1 s after every product, so on a two-core
/// machine they took the second core away from everything else that was split. Here one set of
/// threads does all of it: OpenBLAS runs one thread per call, and products are split like any loop.
///
/// A job is a number of parts and a body; the submitting thread runs part 0 and worker `i` runs part
/// `i`. Workers spin for a short while after a job (the next one usually follows within
/// microseconds), then sleep on a condition variable until the next job wakes them.
///
/// One job at a time: a thread that finds the pool busy — another submitter, or a part of a job that
/// splits again — runs its parts itself, so nesting and concurrent callers are safe and never wait
/// for each other.
final class ThreadPool: @unchecked Sendable {
    static let shared = ThreadPool()

    /// How long an idle worker spins before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// Bumped (sequentially consistent) once per job and on resize; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers that have finished their part of the current job.
    private let finished = Atomic<Int>(0)
    /// Set while a submitter owns the pool.
    private let busy = Atomic<Bool>(false)
    /// Workers blocked on `wakeUp` (or about to be).
    private let sleepers = Atomic<Int>(0)

    // Written by the submitter before `generation` is bumped, read by workers after they see it change.
    private var partCount = 0
    private var body: ((Int) -> Void)?
    /// The submitter's instruction-set cap (see ``InstructionSet/withCap(_:_:)``), which its parts run under.
    private var jobCap: Int32 = -1
    /// The submitter's VNNI setting (``InstructionSet/withoutVNNI(_:)``), handed on like ``jobCap``.
    private var jobWithoutVNNI: Int32 = 0
    /// Workers `0..<activeWorkers` take part; the others leave their loop at the next generation.
    /// Atomic because ``threadCount`` is read from any thread; written only while the pool is held.
    private let active = Atomic<Int>(0)
    private var activeWorkers: Int {
        get { active.load(ordering: .relaxed) }
        set { active.store(newValue, ordering: .relaxed) }
    }
    private var startedWorkers = 0

    private let sleepLock = NSCondition()

    /// A worker's loop, boxed to cross `pthread_create`'s context pointer.
    private final class WorkerBody {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Whether a job is running: a loop asked to split now would run its parts on its own thread.
    var isBusy: Bool { busy.load(ordering: .relaxed) }

    /// Whether the calling thread runs a part of a job of more than one part, on a worker or on the submitting
    /// thread, with the pool or without it. It depends only on the calling code, never on other threads, so
    /// a decision made from it (a matrix product runs whole inside a split loop) gives the same bits
    /// whatever else the process runs.
    static var isInsidePart: Bool { ck_thread_in_pool_part() != 0 }

    /// The number of threads a job can use, the submitting thread included.
    var threadCount: Int { activeWorkers + 1 }

    /// Sets the number of threads (submitter included). Waits for a running job to finish.
    func resize(threads: Int) {
        precondition(threads >= 1, "ThreadPool.resize: need at least one thread, got \(threads)")
        acquire()
        defer { release() }
        if threads - 1 == activeWorkers { return }
        let previous = activeWorkers
        activeWorkers = threads - 1
        if activeWorkers < previous {
            // Workers at or past the new count see the bump, find themselves inactive and exit.
            publish()
            waitForWorkers(count: activeWorkers, exiting: previous - activeWorkers)
        }
        while startedWorkers < activeWorkers {
            let index = startedWorkers, start = generation.load(ordering: .sequentiallyConsistent)
            if let failure = startWorker({ [unowned self] in
                Thread.current.name = "AutoGrad worker \(index + 1)"
                self.workerLoop(index: index, seen: start)
            }) {
                // Fewer threads are slower but correct; a pool that silently lacked workers would hang its first job.
                FileHandle.standardError.write(Data(("warning: could not start AutoGrad worker thread \(index + 1) of "
                    + "\(threads - 1) (\(failure)); running with \(index + 1) thread\(index == 0 ? "" : "s")\n").utf8))
                activeWorkers = startedWorkers
                break
            }
            startedWorkers += 1
        }
    }

    /// The stack each worker gets: the parts run only kernels and shallow Swift frames.
    private let workerStackSize: Int

    /// A pool with no workers yet (``resize(threads:)`` starts them); `workerStackSize` is a parameter so that a
    /// test can make thread creation fail.
    init(workerStackSize: Int = 1 << 20) {
        self.workerStackSize = workerStackSize
    }

    /// Starts a detached thread running `body`; returns the reason when the system refuses one
    /// (`pthread_create` failing for lack of memory or a process limit), nil on success.
    private func startWorker(_ body: @escaping () -> Void) -> String? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let sizeStatus = pthread_attr_setstacksize(&attributes, workerStackSize)
        if sizeStatus != 0 { return "stack size \(workerStackSize): \(String(cString: strerror(sizeStatus)))" }
        let context = Unmanaged.passRetained(WorkerBody(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<WorkerBody>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<WorkerBody>.fromOpaque(context).release()
            return String(cString: strerror(status))
        }
        return nil
    }

    /// Runs `body(part)` for `part` in `0..<parts` (`parts ≤ threadCount`), on the pool when it is
    /// free, else on the calling thread. Returns when every part has run. With more than one part, each
    /// part runs marked as one (``isInsidePart``) wherever it runs.
    func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1 else {
            if parts == 1 { body(0) }
            return
        }
        // The size is read only while the pool is held, so a concurrent resize cannot change it meanwhile.
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            Self.runMarked { for part in 0..<parts { body(part) } }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        guard parts <= threadCount else {
            Self.runMarked { for part in 0..<parts { body(part) } }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            partCount = parts
            jobCap = ck_isa_thread_cap()
            jobWithoutVNNI = ck_vnni_thread_disabled()
            publish()
            Self.runMarked { escapable(0) }
            waitForWorkers(count: activeWorkers, exiting: 0)
            self.body = nil
        }
    }

    /// Runs `body` with the calling thread marked as running a part (``isInsidePart``).
    private static func runMarked(_ body: () -> Void) {
        let previous = ck_thread_set_in_pool_part(1)
        defer { ck_thread_set_in_pool_part(previous) }
        body()
    }

    // MARK: Submitter side

    private func acquire() {
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { sched_yield() }
    }

    private func release() { busy.store(false, ordering: .releasing) }

    /// Starts a new generation and wakes sleeping workers.
    private func publish() {
        finished.store(0, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            sleepLock.lock()
            sleepLock.broadcast()
            sleepLock.unlock()
        }
    }

    /// Spins until `count + exiting` workers have reported on the current generation.
    private func waitForWorkers(count: Int, exiting: Int) {
        let expected = count + exiting
        while finished.load(ordering: .acquiring) < expected { vm_cpu_relax() }
        if exiting > 0 { startedWorkers -= exiting }
    }

    // MARK: Worker side

    private func workerLoop(index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = waitForGeneration(after: seen)
            guard index < activeWorkers else {
                finished.add(1, ordering: .releasing)
                return
            }
            // Part index + 1: the submitter runs part 0.
            if index + 1 < partCount, let body {
                let previous = ck_isa_set_thread_cap(jobCap)
                let previousVNNI = ck_vnni_set_thread_disabled(jobWithoutVNNI)
                Self.runMarked { body(index + 1) }
                ck_vnni_set_thread_disabled(previousVNNI)
                ck_isa_set_thread_cap(previous)
            }
            finished.add(1, ordering: .releasing)
        }
    }

    /// Returns the first generation after `seen`: spins for ``spinNanoseconds``, then sleeps.
    private func waitForGeneration(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + ThreadPool.spinNanoseconds
        var spins = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            spins += 1
            if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds > deadline { break }
            vm_cpu_relax()
        }
        sleepLock.lock()
        defer { sleepLock.unlock() }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
        while true {
            let current = generation.load(ordering: .sequentiallyConsistent)
            if current != seen { return current }
            sleepLock.wait()
        }
    }
}
