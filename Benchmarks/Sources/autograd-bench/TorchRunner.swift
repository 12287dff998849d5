import Foundation

/// Runs the PyTorch side of the benchmarks (Benchmarks/pytorch/*.py) in child Python processes.
struct TorchRunner {
    /// The interpreter, resolved on PATH.
    let python: String
    /// Benchmarks/pytorch.
    let directory: URL

    /// glibc's malloc settings that stop it mapping and unmapping large buffers every step.
    static let tunedMallocEnvironment = ["MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"]

    /// A runner, or nil when `torch` cannot be imported by `python`.
    init?(python: String) {
        guard let interpreter = TorchRunner.which(python),
              (try? runProcess(interpreter, ["-c", "import torch"])) != nil else { return nil }
        self.python = interpreter
        directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../pytorch").standardized
    }

    /// One PyTorch workload measurement (workloads.py), or nil (with a message) when the script fails.
    /// `environment` adds variables (e.g. the instruction-set caps of ``BenchmarkLevel``).
    func run(workload: String, threads: Int, steps: Int, warmup: Int, tunedMalloc: Bool,
             environment: [String: String] = [:]) -> TorchMeasurement? {
        do {
            let malloc = tunedMalloc ? TorchRunner.tunedMallocEnvironment : [:]
            let output = try runProcess(python, [script("workloads.py"), "--workload", workload, "--threads", "\(threads)",
                                                 "--steps", "\(steps)", "--warmup", "\(warmup)"],
                                        environment: malloc.merging(environment) { $1 })
            guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8) else { return nil }
            var measurement = try JSONDecoder().decode(TorchMeasurement.self, from: data)
            measurement.tunedMalloc = tunedMalloc
            return measurement
        } catch {
            print("PyTorch \(workload) (\(threads) threads) failed: \(error)")
            return nil
        }
    }

    /// PyTorch's timings of the micro-benchmarks `ids` (micro.py, tuned malloc) by id; empty, with a message,
    /// when the script fails.
    func micro(ids: [String], threads: Int, warmup: Int, samples: Int, environment: [String: String] = [:]) -> [String: MicroTiming] {
        do {
            let output = try runProcess(python, [script("micro.py"), "--cases", ids.joined(separator: ","),
                                                 "--threads", "\(threads)", "--warmup", "\(warmup)", "--repeats", "\(samples)"],
                                        environment: TorchRunner.tunedMallocEnvironment.merging(environment) { $1 })
            guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8) else { return [:] }
            return try JSONDecoder().decode([String: MicroTiming].self, from: data)
        } catch {
            print("PyTorch micro-benchmarks (\(threads) threads) failed: \(error)")
            return [:]
        }
    }

    private func script(_ name: String) -> String { directory.appendingPathComponent(name).path }

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
    /// `torch.backends.cpu.get_cpu_capability()` in the run.
    var cpu_capability: String?
}
