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
    /// The OpenBLAS kernel family the run used.
    var productKernels: String?
    /// The instruction-set level our kernels ran at (``InstructionSet/summary``).
    var instructionSet: String?
}

/// Peak resident memory of this process so far, in MiB.
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Seconds per call of `body`, one entry per sample, fastest first: `warmup` untimed calls, then `samples`
/// timed samples of `callsPerSample` back-to-back calls each (more calls per sample steady the clock for short calls).
func sortedDurations(of body: () -> Void, warmup: Int, samples: Int, callsPerSample: Int = 1) -> [Double] {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    times.reserveCapacity(samples)
    for _ in 0..<samples {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<callsPerSample { body() }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(callsPerSample))
    }
    return times.sorted()
}

/// Median milliseconds of `steps` calls after `warmup` untimed ones, with buffer allocations per step.
func timeSteps(_ step: Step, warmup: Int, steps: Int) -> (ms: Double, buffers: Double, systemBuffers: Double) {
    for _ in 0..<warmup { step() }
    let buffers0 = TensorMemory.bufferAllocations, system0 = TensorMemory.systemBufferAllocations
    let times = sortedDurations(of: step, warmup: 0, samples: steps)
    let n = Double(steps)
    return (times[steps / 2] * 1e3, Double(TensorMemory.bufferAllocations - buffers0) / n,
            Double(TensorMemory.systemBufferAllocations - system0) / n)
}

/// Best-of-`repeats` GFLOP/s of Tensor.matmul and of a direct cblas_sgemm call, for square Float32 matrices.
///
/// All of ours first, then all direct calls: OpenBLAS's own threads, which the direct calls use, spin for
/// about 0.1 s after each call and would take a core from the next measurement of ours.
func matmulGflops(sizes: [Int], repeats: Int) -> (ours: [String: Double], direct: [String: Double]) {
    var ours: [String: Double] = [:], direct: [String: Double] = [:]
    let generator = RandomGenerator(seed: 0)
    let operands = sizes.map { n in (n, Tensor.randn([n, n], generator: generator), Tensor.randn([n, n], generator: generator)) }
    // Small products take tens of microseconds: a few samples right after start-up measured the moments
    // before the scheduler had moved the pool's new worker to the other core (n = 256 at 2 threads: 98
    // GFLOP/s in some runs, 450+ in others). Each size gets about 0.1 s of warm-up and of samples.
    func best(_ n: Int, _ body: () -> Void) -> Double {
        let flop = 2 * Double(n) * Double(n) * Double(n), calls = Swift.max(repeats, Int(2e10 / flop))
        return flop / sortedDurations(of: body, warmup: calls, samples: calls)[0] / 1e9
    }
    for (n, a, b) in operands { ours["\(n)"] = best(n) { _ = Tensor.matmul(a, b) } }
    // swift-autograd keeps OpenBLAS at one thread per call and splits products itself; the direct call gets
    // OpenBLAS's own threading, with as many threads as ours uses.
    openblas_set_num_threads(Int32(BLAS.threadCount))
    for (n, a, b) in operands {
        var c = [Float](repeating: 0, count: n * n)
        let af = a.floats, bf = b.floats
        direct["\(n)"] = best(n) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        af, Int32(n), bf, Int32(n), 0, &c, Int32(n))
        }
    }
    openblas_set_num_threads(1)
    return (ours, direct)
}

/// Microseconds per call of one micro-benchmark: the median and the fastest of the timed samples.
struct MicroTiming: Codable {
    var usMedian: Double
    var usMin: Double

    enum CodingKeys: String, CodingKey {
        case usMedian = "us_median", usMin = "us_min"
    }
}

/// Times a short call: `warmup` (at least 1) untimed calls, the fastest of which sets how many calls make one sample
/// (about `sampleSeconds` long, so the clock's resolution does not matter), then `samples` timed samples.
func microTiming(of body: () -> Void, warmup: Int, samples: Int, sampleSeconds: Double = 1e-3) -> MicroTiming {
    let estimate = sortedDurations(of: body, warmup: 0, samples: max(1, warmup))[0]
    let callsPerSample = max(1, min(10_000, Int(sampleSeconds / max(estimate, 1e-9))))
    let times = sortedDurations(of: body, warmup: 0, samples: samples, callsPerSample: callsPerSample)
    return MicroTiming(usMedian: times[samples / 2] * 1e6, usMin: times[0] * 1e6)
}
