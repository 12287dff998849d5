import Foundation

/// Runs Benchmarks/pytorch/workloads.py in a child Python process.
struct TorchRunner {
    let python: String
    let steps: Int
    let warmup: Int
    let script: String

    /// A runner, or nil when `torch` cannot be imported by `python`.
    init?(python: String, steps: Int, warmup: Int) {
        self.python = python
        self.steps = steps
        self.warmup = warmup
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        script = here.appendingPathComponent("../../pytorch/workloads.py").standardized.path
        guard let interpreter = TorchRunner.which(python),
              (try? runProcess(interpreter, ["-c", "import torch"])) != nil else { return nil }
        self.resolvedPython = interpreter
    }

    private var resolvedPython = ""

    /// One PyTorch measurement, or nil (with a message) when the script fails.
    func run(workload: String, threads: Int, tunedMalloc: Bool) -> TorchMeasurement? {
        let environment = tunedMalloc ? ["MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"] : [:]
        do {
            let output = try runProcess(resolvedPython, [script, "--workload", workload, "--threads", "\(threads)",
                                                         "--steps", "\(steps)", "--warmup", "\(warmup)"], environment: environment)
            guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8) else { return nil }
            var measurement = try JSONDecoder().decode(TorchMeasurement.self, from: data)
            measurement.tunedMalloc = tunedMalloc
            return measurement
        } catch {
            print("PyTorch \(workload) (\(threads) threads) failed: \(error)")
            return nil
        }
    }

    static func which(_ name: String) -> String? {
        if name.contains("/") { return name }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// What workloads.py prints.
struct TorchMeasurement: Codable {
    var workload: String
    var threads: Int
    var ms_median: Double?
    var gflops: [String: Double]?
    var peak_rss_mb: Double
    var tunedMalloc: Bool?
}
