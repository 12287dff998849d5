/// Splitting large loops over the cores that matrix products use (PyTorch's `at::parallel_for`).
///
/// Work between BLAS calls (im2col, elementwise kernels, optimiser updates) otherwise runs on one core.
/// Loops split only when they touch at least `minimumWork` elements, so small tensors never pay for
/// thread hand-off; the thread count is ``BLAS/threadCount``, so a user who asks for one thread gets
/// one. The parts run on a pool of persistent threads shared with the matrix products; a loop that
/// is already running inside a part (or while another thread uses the pool) runs on its own thread.
public enum Parallel {
    /// Elements a loop must touch before it is split.
    public static let minimumWork = 1 << 16

    /// Runs `body` over contiguous parts of `0..<count`, on up to ``BLAS/threadCount`` threads when
    /// `work` (elements touched in all) is large enough. Parts are disjoint; `body` must only write
    /// what its part owns.
    public static func forEachPart(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let threads = Swift.min(BLAS.threadCount, count)
        guard threads > 1, work >= minimumWork else {
            body(0..<count)
            return
        }
        ThreadPool.shared.run(parts: threads) { t in
            body((count * t / threads)..<(count * (t + 1) / threads))
        }
    }
}
