import Foundation
import Synchronization
import Testing
@testable import AutoGrad

/// The thread pool behind `Parallel` and split matrix products: every part runs exactly once, jobs
/// nested in a part or submitted from several threads at once run (on their own thread), resizing
/// takes effect, and products split into blocks match the triple loop.
@Suite(.serialized) struct ThreadPoolTests {
    /// Runs `body` with a pool of its own with `threads` threads: tests in other suites change the shared
    /// pool's size while these run. Its workers are stopped afterwards.
    private func withPool(_ threads: Int, _ body: (ThreadPool) -> Void) {
        let pool = ThreadPool()
        pool.resize(threads: threads)
        defer { pool.resize(threads: 1) }
        body(pool)
    }

    /// Runs `body` with `BLAS.threadCount` set to `threads`, restoring it afterwards (for tests that go
    /// through `Parallel`, which uses the shared pool).
    private func withThreads(_ threads: Int, _ body: () -> Void) {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        BLAS.threadCount = threads
        body()
    }

    @Test(arguments: [1, 2, 3, 4])
    func everyPartRunsOnce(threads: Int) {
        withPool(threads) { pool in
            #expect(pool.threadCount == threads)
            for _ in 0..<500 {
                let counts = Mutex([Int](repeating: 0, count: threads))
                pool.run(parts: threads) { part in counts.withLock { $0[part] += 1 } }
                #expect(counts.withLock { $0 } == [Int](repeating: 1, count: threads))
            }
        }
    }

    /// A worker the system refuses (here: a stack no machine can map) leaves a smaller pool that still runs every
    /// part, with a warning, rather than a pool waiting forever for a thread that never started.
    @Test func refusedThreadLeavesAWorkingSmallerPool() {
        let pool = ThreadPool(workerStackSize: 1 << 52)
        pool.resize(threads: 3)
        #expect(pool.threadCount == 1)
        let counts = Mutex([0, 0, 0])
        pool.run(parts: 3) { part in counts.withLock { $0[part] += 1 } }
        #expect(counts.withLock { $0 } == [1, 1, 1])
    }

    /// Asking for far more threads than cores is capped at four per core (with a warning), not obeyed.
    @Test func threadCountIsCappedAtFourPerCore() {
        #expect(BLAS.maximumThreadCount == 4 * ProcessInfo.processInfo.activeProcessorCount)
        withThreads(10_000) { #expect(BLAS.threadCount == BLAS.maximumThreadCount) }
        withThreads(BLAS.maximumThreadCount) { #expect(BLAS.threadCount == BLAS.maximumThreadCount) }
    }

    @Test func partsRunOnDifferentThreads() {
        withPool(2) { pool in
            let threadIDs = Mutex<Set<UInt>>([])
            pool.run(parts: 2) { _ in
                let id = UInt(pthread_self())
                threadIDs.withLock { _ = $0.insert(id) }
                usleep(2000)
            }
            #expect(threadIDs.withLock { $0.count } == 2)
        }
    }

    @Test func nestedLoopsRunInline() {
        withThreads(2) {
            let total = Atomic<Int>(0)
            Parallel.forEachPart(4, work: Parallel.minimumWork) { outer in
                #expect(ThreadPool.shared.isBusy)
                Parallel.forEachPart(100, work: Parallel.minimumWork) { inner in
                    total.add(outer.count * inner.count, ordering: .relaxed)
                }
            }
            #expect(total.load(ordering: .relaxed) == 400)
            #expect(!ThreadPool.shared.isBusy)
        }
    }

    @Test func concurrentSubmittersAllFinish() {
        withThreads(2) {
            let total = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                for _ in 0..<200 {
                    Parallel.forEachPart(10, work: Parallel.minimumWork) { part in
                        total.add(part.count, ordering: .relaxed)
                    }
                }
            }
            #expect(total.load(ordering: .relaxed) == 8 * 200 * 10)
        }
    }

    @Test func workersWakeAfterSleeping() {
        withPool(2) { pool in
            // Longer than the spin period, so the worker has gone to sleep before the second job.
            for _ in 0..<3 {
                usleep(useconds_t(ThreadPool.spinNanoseconds / 1000 * 5))
                let ran = Atomic<Int>(0)
                pool.run(parts: 2) { _ in ran.add(1, ordering: .relaxed) }
                #expect(ran.load(ordering: .relaxed) == 2)
            }
        }
    }

    @Test func shrinkingAndGrowingKeepsJobsComplete() {
        withPool(1) { pool in
            for threads in [3, 1, 2, 4, 2] {
                pool.resize(threads: threads)
                #expect(pool.threadCount == threads)
                let counts = Mutex([Int](repeating: 0, count: threads))
                pool.run(parts: threads) { part in counts.withLock { $0[part] += 1 } }
                #expect(counts.withLock { $0 } == [Int](repeating: 1, count: threads), "\(threads) threads")
            }
        }
    }

    /// A product large enough to split gives the same bits when another thread holds the pool (its blocks then run
    /// one after another on the calling thread) as when the pool is free, so training does not change with what
    /// else the process computes. One whole product (inside a part of a split loop) rounds differently: the halves
    /// run the unpacked kernel, the whole one the packed kernel (or OpenBLAS), which sums the depth in slices. The
    /// products are split for two threads whatever `BLAS.threadCount` other suites set meanwhile.
    @Test func productIsTheSameWhetherOrNotThePoolIsFree() throws {
        let g = RandomGenerator(seed: 21)
        // 16 × 2048 × 4352 is past the unpacked kernels' 2²⁷ multiply-adds; each half of its columns is within it.
        let (m, n, k) = (16, 2048, 4352)
        let a = Tensor.randn([m, k], generator: g).floats, b = Tensor.randn([k, n], generator: g).floats
        func product() -> [Float] {
            var c = [Float](repeating: .nan, count: m * n)
            gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a, lda: k, b, ldb: n, beta: 0, &c, ldc: n, threads: 2)
            return c
        }
        let free = product()
        var whole: [Float] = []
        ThreadPool.shared.run(parts: 2) { part in if part == 0 { whole = product() } }
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let holder = Thread {
            ThreadPool.shared.run(parts: 2) { part in
                guard part == 0 else { return }
                held.signal()
                release.wait()
            }
            done.signal()
        }
        holder.start()
        held.wait()
        #expect(ThreadPool.shared.isBusy)
        let whileHeld = product()
        release.signal()
        done.wait()
        // Compared outside #expect, which would print every element of a failing pair.
        let sameWhileHeld = whileHeld == free, wholeDiffers = whole != free
        #expect(sameWhileHeld, "the product changed while another thread held the pool")
        #expect(wholeDiffers, "the test's shapes no longer tell a split product from a whole one")
    }
}
