import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// The graph is owned by the Variables that need it, so memory comes back when a step's Variables
// go away. These tests run in a child process (an exit test): `TensorMemory.liveBytes` and the
// resident set size are process-wide, and tests of other suites run in parallel with this one.
// The child prints `MEMORY: key=value ...` lines; the parent parses them, prints and checks them.

/// Resident set size of this process in bytes, from `/proc/self/statm` (resident pages × page size).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

/// The `MEMORY:` lines of a child's output, each as its `key=value` pairs.
private func memoryRecords(_ result: ExitTest.Result?) -> [[String: Int]] {
    guard let result else { return [] }
    let text = String(decoding: result.standardOutputContent, as: UTF8.self)
    return text.split(separator: "\n").filter { $0.hasPrefix("MEMORY:") }.map { line in
        var record: [String: Int] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { record[String(parts[0])] = value }
        }
        return record
    }
}

/// A training loop of a two-layer MLP: x[32, 16] → W1[16, 24] + b1 → relu → W2[24, 8] + b2 → Σ(·)².
/// Prints liveBytes and RSS after steps 100 and 10,000, and the live bytes at the peak of a step.
private func runTrainingLoop(steps: Int) {
    let gen = RandomGenerator(seed: 11)
    let x = Variable(Tensor.randn([32, 16], generator: gen))
    let params = [
        Variable(Tensor.randn([16, 24], generator: gen) * 0.2, requiresGrad: true),
        Variable(Tensor.zeros([24]), requiresGrad: true),
        Variable(Tensor.randn([24, 8], generator: gen) * 0.2, requiresGrad: true),
        Variable(Tensor.zeros([8]), requiresGrad: true),
    ]
    var firstLoss = 0.0, lastLoss = 0.0, peak = 0
    for step in 1...steps {
        let hidden = (x.matmul(params[0]) + params[1]).relu()
        let loss = (hidden.matmul(params[2]) + params[3]).squared().mean()
        peak = Swift.max(peak, TensorMemory.liveBytes)
        loss.backward()
        Graph.noGrad {
            for p in params {
                p.value = p.value - p.grad! * 0.01
                p.zeroGrad()
            }
        }
        if step == 1 { firstLoss = loss.value.item }
        lastLoss = loss.value.item
        if step == 100 || step == steps {
            print("MEMORY: step=\(step) liveBytes=\(TensorMemory.liveBytes) rssBytes=\(residentBytes()) stepPeakLiveBytes=\(peak)")
        }
    }
    // The loop really trains (the gradients are used), so it is not an empty exercise.
    print("MEMORY: lossDecreased=\(lastLoss < firstLoss * 0.5 ? 1 : 0)")
}

@Suite struct MemoryTests {
    @Test func tenThousandTrainingStepsKeepMemoryFlat() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            runTrainingLoop(steps: 10_000)
        }
        let records = memoryRecords(result)
        for line in records.map({ $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }) {
            print("MEMORY: \(line)")
        }
        try #require(records.count == 3, "expected three MEMORY lines from the child")
        let early = records[0], late = records[1]
        #expect(early["step"] == 100 && late["step"] == 10_000)
        let earlyLive = try #require(early["liveBytes"]), lateLive = try #require(late["liveBytes"])
        let earlyRSS = try #require(early["rssBytes"]), lateRSS = try #require(late["rssBytes"])
        let stepPeak = try #require(late["stepPeakLiveBytes"])
        #expect(stepPeak > earlyLive)                 // a step does allocate and free tensors
        #expect(lateLive == earlyLive, "live tensor bytes grew from \(earlyLive) to \(lateLive)")
        #expect(earlyRSS > 0)
        #expect(lateRSS - earlyRSS < 5 * 1024 * 1024, "RSS grew from \(earlyRSS) to \(lateRSS)")
        #expect(records[2]["lossDecreased"] == 1)
    }

    @Test func graphsFreedWithTheirVariablesWhateverBackwardDid() async throws {
        // Forward only, retained backward, create-graph gradients: once the step's Variables go
        // away, every tensor they held is freed.
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let w = Variable(Tensor.randn([8, 8], dtype: .float64), requiresGrad: true)
            let x = Variable(Tensor.randn([4, 8], dtype: .float64))
            let base = TensorMemory.liveBytes
            do { _ = x.matmul(w).tanh().sum() }
            let afterForward = TensorMemory.liveBytes
            do {
                let y = x.matmul(w).tanh().sum()
                y.backward(retainGraph: true)
                w.zeroGrad()
            }
            let afterRetained = TensorMemory.liveBytes
            do {
                let xi = Variable(x.value, requiresGrad: true)
                let gx = Graph.gradients(of: xi.matmul(w).tanh().sum(), withRespectTo: [xi], createGraph: true)[0]
                (gx * gx).sum().backward()
                w.zeroGrad()
            }
            let afterSecondOrder = TensorMemory.liveBytes
            print("MEMORY: base=\(base) afterForward=\(afterForward) afterRetained=\(afterRetained) afterSecondOrder=\(afterSecondOrder)")
        }
        let record = try #require(memoryRecords(result).first)
        let base = try #require(record["base"])
        #expect(base > 0)
        #expect(record["afterForward"] == base)
        #expect(record["afterRetained"] == base)
        #expect(record["afterSecondOrder"] == base)
    }

    @Test func aVeryDeepGraphIsFreedWithoutOverflowingTheStack() async throws {
        // Freeing 100,000 chained records must not recurse once per op (it overflowed the stack).
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
            let base = TensorMemory.liveBytes
            var value = 0.0
            do {
                var y = x
                for _ in 0..<100_000 { y = y * 1.0 + 1 }
                value = y.value.doubles[0]
            }
            print("MEMORY: base=\(base) afterDrop=\(TensorMemory.liveBytes) last=\(Int(value))")
        }
        let record = try #require(memoryRecords(result).first)
        #expect(record["last"] == 100_001)
        #expect(record["afterDrop"] == record["base"])
    }
}
