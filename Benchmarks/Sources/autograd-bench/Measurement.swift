import CBLAS
import Foundation
import NN

/// What one (workload, thread count) run measured in this process.
struct Measurement: Codable {
    var workload: String
    var threads: Int
    var msMedian: Double?
    var gflops: [String: Double]?
    var directGflops: [String: Double]?
    var peakRSSMegabytes: Double
    var buffersPerStep: Double?
    var systemBuffersPerStep: Double?
}

/// Peak resident memory of this process so far, in MiB.
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Median milliseconds of `steps` calls after `warmup` untimed ones, with buffer allocations per step.
func timeSteps(_ step: Step, warmup: Int, steps: Int) -> (ms: Double, buffers: Double, systemBuffers: Double) {
    for _ in 0..<warmup { step() }
    let buffers0 = TensorMemory.bufferAllocations, system0 = TensorMemory.systemBufferAllocations
    var times: [Double] = []
    times.reserveCapacity(steps)
    for _ in 0..<steps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    let n = Double(steps)
    return (times.sorted()[steps / 2], Double(TensorMemory.bufferAllocations - buffers0) / n,
            Double(TensorMemory.systemBufferAllocations - system0) / n)
}

/// Best-of-`repeats` GFLOP/s of Tensor.matmul and of a direct cblas_sgemm call, for square Float32 matrices.
func matmulGflops(sizes: [Int], repeats: Int) -> (ours: [String: Double], direct: [String: Double]) {
    var ours: [String: Double] = [:], direct: [String: Double] = [:]
    let generator = RandomGenerator(seed: 0)
    for n in sizes {
        let a = Tensor.randn([n, n], generator: generator), b = Tensor.randn([n, n], generator: generator)
        let flops = 2 * Double(n) * Double(n) * Double(n)
        func best(_ body: () -> Void) -> Double {
            body()
            var fastest = Double.infinity
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return flops / fastest / 1e9
        }
        ours["\(n)"] = best { _ = Tensor.matmul(a, b) }
        var c = [Float](repeating: 0, count: n * n)
        let af = a.floats, bf = b.floats
        direct["\(n)"] = best {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        af, Int32(n), bf, Int32(n), 0, &c, Int32(n))
        }
    }
    return (ours, direct)
}
