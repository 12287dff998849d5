import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

/// The loops split over threads (im2col/col2im, elementwise kernels) must cover every element once
/// and give what one thread gives (exactly, but for results of matrix products).
@Suite(.serialized) struct ParallelTests {
    @Test(arguments: [0, 1, 2, 5, 1000])
    func partsCoverTheRangeOnce(count: Int) {
        let lock = NSLock()
        var seen = [Int](repeating: 0, count: count)
        Parallel.forEachPart(count, work: Parallel.minimumWork) { part in
            lock.lock(); defer { lock.unlock() }
            for i in part { seen[i] += 1 }
        }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    @Test func splitKernelsMatchOneThread() {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        let g = RandomGenerator(seed: 11)
        // Large enough that every split loop passes Parallel.minimumWork.
        let x = Tensor.randn([8, 4, 40, 40], generator: g), w = Tensor.randn([6, 4, 3, 3], generator: g)
        let y = Tensor.randn([8, 6, 20, 20], generator: g)
        func run() -> [Tensor] {
            let xv = Variable(x, requiresGrad: true), wv = Variable(w, requiresGrad: true)
            let out = Variable.conv2d(xv, weight: wv, stride: (2, 2), padding: .explicit(1, 1))
            let loss = (out * Variable(y)).tanh().sum()
            loss.backward()
            // Broadcast binary ops split by rows ([1, 4, 1, 1] channel bias) or within their one row (a scalar),
            // and a broadcast where.
            let bias = Tensor.randn([1, 4, 1, 1], generator: RandomGenerator(seed: 12))
            return [out.value, xv.grad!, wv.grad!, x.exp(), x * x, x.sigmoid() + x, x + bias, x .> 0.25,
                    Tensor.where(x .> 0, x, bias)]
        }
        BLAS.threadCount = 1
        let single = run()
        BLAS.threadCount = 2
        let split = run()
        // The convolution's results (0–2) come from matrix products, which round differently when split
        // differently (OpenBLAS takes other paths for smaller blocks), and the weight gradient sums over the
        // batch per thread, then across threads. Everything else is computed element by element and must
        // match exactly.
        for (index, (a, b)) in zip(single, split).enumerated() {
            if index <= 2 {
                #expect(mismatch(b, a, atol: 1e-5, rtol: 1e-5) == nil)
            } else {
                #expect(a == b, "result \(index) differs between one and two threads")
            }
        }
    }
}
