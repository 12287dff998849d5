import ArgumentParser
import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Training

@main
struct ExampleCompress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-compress",
        abstract: "Distil, prune and quantise Fashion-MNIST classifiers, and compare them (and PyTorch's) in one table.",
        discussion: """
        Trains the W2 CNN (the teacher) and a small MLP student alone and distilled (Hinton et al.), prunes the \
        teacher to --sparsity with gradual magnitude pruning while fine-tuning (Zhu & Gupta), removes all but \
        --keep-channels of its convolution's channels (structured, then fine-tuned), and quantises it to int8: \
        the Linear layers dynamically, and the convolution statically with ranges calibrated on \
        --calibration-batches training batches. The table gives nonzero parameters, file size, test accuracy and \
        latency per batch of 1 and 64 on one thread. With torch installed, Benchmarks/pytorch/compress.py loads \
        the Swift-trained teachers into PyTorch and adds rows for its quantize_dynamic, its eager-mode static \
        quantisation (x86 backend), global magnitude pruning and the channel-pruned teacher.
        """
    )

    @Option(name: .customLong("teacher-epochs"), help: "Epochs of the teacher CNN.") var teacherEpochs = 2
    @Option(name: .customLong("student-epochs"), help: "Epochs of each student (alone and distilled).") var studentEpochs = 5
    @Option(name: .customLong("finetune-epochs"), help: "Epochs of fine-tuning while pruning.") var finetuneEpochs = 1
    @Option(name: .customLong("student-hidden"), help: "Hidden units of the student MLP.") var studentHidden = 32
    @Option(help: "Distillation temperature T.") var temperature = 2.0
    @Option(help: "Weight α of the soft-target term.") var alpha = 0.5
    @Option(help: "Fraction of the teacher's weights pruned.") var sparsity = 0.9
    @Option(name: .customLong("keep-channels"), help: "Channels of the teacher's convolution kept by structured pruning.")
    var keepChannels = 16
    @Option(name: .customLong("calibration-batches"), help: "Training batches that calibrate the static int8 convolution.")
    var calibrationBatches = 16
    @Option(name: .customLong("batch-size"), help: "Examples per training step.") var batchSize = 64
    @Option(name: .customLong("train-limit"), help: "Use only the first N training images.") var trainLimit: Int?
    @Option(name: .customLong("test-limit"), help: "Use only the first N test images.") var testLimit: Int?
    @Option(name: .customLong("latency-repeats"), help: "Timed forward passes per latency figure.") var latencyRepeats = 50
    @Option(help: "Seed for initialisation and shuffling.") var seed: UInt64 = 0
    @Option(name: .customLong("data-dir"), help: "Fashion-MNIST IDX files.") var dataDirectory = FashionMNIST.defaultDirectory
    @Option(name: .customLong("output-dir"), help: "Where the models are saved.") var outputDirectory = "out/compress"
    @Flag(inversion: .prefixedNo, help: "Add PyTorch's rows when python3 imports torch.") var torch = true
    @Option(help: "Threads for training (latency is always measured on one).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        for (name, value) in [("--teacher-epochs", teacherEpochs), ("--student-epochs", studentEpochs),
                              ("--finetune-epochs", finetuneEpochs), ("--batch-size", batchSize),
                              ("--student-hidden", studentHidden), ("--latency-repeats", latencyRepeats), ("--threads", threads),
                              ("--keep-channels", keepChannels), ("--calibration-batches", calibrationBatches)] {
            guard value > 0 else { throw ValidationError("\(name) must be positive, got \(value)") }
        }
        guard temperature > 0 else { throw ValidationError("--temperature must be positive, got \(temperature)") }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1], got \(alpha)") }
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1), got \(sparsity)") }
        guard keepChannels <= 32 else { throw ValidationError("--keep-channels must be at most the teacher's 32, got \(keepChannels)") }
    }

    func run() throws {
        warnIfDebugBuild(example: "example-compress")
        requireWritableDirectory(outputDirectory)
        let (trainSet, testSet) = loadData()
        print("Fashion-MNIST: \(trainSet.count) training and \(testSet.count) test images; kernels: \(InstructionSet.summary)")
        let directory = URL(fileURLWithPath: outputDirectory)
        var rows: [ReportRow] = []
        func measure(_ name: String, _ model: Module, file: String, quantized: Bool = false) throws -> ReportRow {
            let url = directory.appendingPathComponent(file)
            if quantized { try model.saveQuantized(to: url) } else { try model.save(to: url) }
            BLAS.threadCount = 1
            defer { BLAS.threadCount = threads }
            let counts = parameterCounts(model)
            let batch64 = testSet.images.sliced(axis: 0, start: 0, end: Swift.min(64, testSet.count))
            let row = ReportRow(model: name, nonzero: counts.nonzero, parameters: counts.total, bytes: fileSize(url),
                                accuracy: Metrics.accuracy(predicted: logits(of: model, on: testSet.images).argmax(axis: 1),
                                                                  truth: testSet.labels),
                                latency1: latency(model, testSet.images.sliced(axis: 0, start: 0, end: 1), repeats: latencyRepeats),
                                latency64: latency(model, batch64, repeats: latencyRepeats))
            print(row.line)
            rows.append(row)
            return row
        }
        BLAS.threadCount = threads
        RandomGenerator.manualSeed(seed)
        let crossEntropyLoss: (Module, Tensor, [Int], [Int]) -> Variable = { model, x, y, _ in crossEntropy(model(Variable(x)), y) }

        // The teacher.
        let teacher = CNNModel.cnn.make(inputChannels: 1)
        train(teacher, on: trainSet, epochs: teacherEpochs, batchSize: batchSize, learningRate: 1e-3, seed: seed,
              label: "teacher", loss: crossEntropyLoss)
        let teacherRow = try measure("teacher CNN (Float)", teacher, file: "teacher.safetensors")

        // The student alone and distilled, from the same initial weights.
        let initial = makeStudent().stateDict()
        let alone = makeStudent()
        try alone.loadStateDict(initial)
        train(alone, on: trainSet, epochs: studentEpochs, batchSize: batchSize, learningRate: 1e-3, seed: seed + 1,
              label: "student", loss: crossEntropyLoss)
        let aloneRow = try measure("student MLP alone", alone, file: "student.safetensors")
        let soft = logits(of: teacher, on: trainSet.images)
        let distilled = makeStudent()
        try distilled.loadStateDict(initial)
        train(distilled, on: trainSet, epochs: studentEpochs, batchSize: batchSize, learningRate: 1e-3, seed: seed + 1,
              label: "distil") { model, x, y, indices in
            distillationLoss(model(Variable(x)), Variable(ImageSet.rows(soft, indices)), y, temperature: temperature, alpha: alpha)
        }
        let distilledRow = try measure("student MLP distilled", distilled, file: "student-distilled.safetensors")

        // The teacher pruned gradually while fine-tuning, then made permanent.
        let pruned = CNNModel.cnn.make(inputChannels: 1)
        try pruned.loadStateDict(teacher.stateDict())
        let targets: [MagnitudePruning.Target] = pruned.layers.filter { $0 is Conv2d || $0 is Linear }.map { ($0, "weight") }
        let steps = finetuneEpochs * ((trainSet.count + batchSize - 1) / batchSize)
        let schedule = PolynomialSparsitySchedule(final: sparsity, begin: 0, end: Swift.max(1, steps * 2 / 3))
        let every = Swift.max(1, steps / 30)
        MagnitudePruning.prune(targets, toSparsity: schedule.sparsity(at: every))
        train(pruned, on: trainSet, epochs: finetuneEpochs, batchSize: batchSize, learningRate: 5e-4, seed: seed + 2,
              label: "prune", loss: crossEntropyLoss) { step in
            if step % every == 0 { MagnitudePruning.prune(targets, toSparsity: schedule.sparsity(at: step + every)) }
        }
        MagnitudePruning.prune(targets, toSparsity: sparsity)
        print(String(format: "pruned weights: %.1f%% of conv and linear weights", MagnitudePruning.sparsity(targets) * 100))
        for target in targets { target.module.removePruning(target.name) }
        let prunedRow = try measure("teacher pruned \(Int(sparsity * 100))% (Float)", pruned, file: "teacher-pruned.safetensors")

        // The teacher's convolution cut to its strongest channels (a smaller dense model), then fine-tuned.
        let channelPruned = StructuredPruning.removeChannels(of: teacher, at: 0, keep: keepChannels, norm: .l1)
        let oneShot = Metrics.accuracy(predicted: logits(of: channelPruned, on: testSet.images).argmax(axis: 1), truth: testSet.labels)
        print(String(format: "channel pruning to %d of 32: %.2f%% test accuracy before fine-tuning", keepChannels, oneShot * 100))
        train(channelPruned, on: trainSet, epochs: finetuneEpochs, batchSize: batchSize, learningRate: 5e-4, seed: seed + 3,
              label: "channels", loss: crossEntropyLoss)
        let channelRow = try measure("teacher \(keepChannels)/32 channels (Float)", channelPruned, file: "teacher-channels.safetensors")

        // int8.
        let int8Teacher = quantizeDynamic(teacher)
        let int8Row = try measure("teacher int8 (dynamic Linear)", int8Teacher, file: "teacher-int8.safetensors", quantized: true)
        let calibration = (0..<Swift.min(calibrationBatches, (trainSet.count + batchSize - 1) / batchSize)).map {
            trainSet.images.sliced(axis: 0, start: $0 * batchSize, end: Swift.min(($0 + 1) * batchSize, trainSet.count))
        }
        let staticRow = try measure("teacher int8 (static conv + Linear)", quantizeStatic(teacher, calibration: calibration),
                                    file: "teacher-int8-static.safetensors", quantized: true)
        _ = try measure("student distilled int8 (dynamic)", quantizeDynamic(distilled), file: "student-int8.safetensors",
                        quantized: true)

        var torchRows: [ReportRow] = []
        if torch {
            torchRows = pytorchRows(teacher: directory.appendingPathComponent("teacher.safetensors"),
                                    channelPruned: directory.appendingPathComponent("teacher-channels.safetensors"),
                                    calibrationImages: calibration.reduce(0) { $0 + $1.shape[0] })
        }
        print("\n" + ReportRow.header)
        for row in rows + torchRows { print(row.line) }
        print(summary(teacher: teacherRow, alone: aloneRow, distilled: distilledRow, pruned: prunedRow, channels: channelRow,
                      int8: int8Row, staticInt8: staticRow, torch: torchRows, tests: testSet.count))
    }

    /// The training and test sets, cut to the limits; exits with the reader's message when they cannot be read.
    func loadData() -> (train: ImageSet, test: ImageSet) {
        switch Result(catching: { () throws(DataError) -> (ImageSet, ImageSet) in
            (ImageSet(try FashionMNIST(directory: dataDirectory, split: .train), limit: trainLimit),
             ImageSet(try FashionMNIST(directory: dataDirectory, split: .test), limit: testLimit))
        }) {
        case .success(let sets): return sets
        case .failure(let error): exitWithError(error.description)
        }
    }

    func makeStudent() -> Sequential {
        Sequential(Flatten(), Linear(28 * 28, studentHidden), ReLU(), Linear(studentHidden, 10))
    }

    /// The targets of issue 20, each with its measured value.
    func summary(teacher: ReportRow, alone: ReportRow, distilled: ReportRow, pruned: ReportRow, channels: ReportRow,
                 int8: ReportRow, staticInt8: ReportRow, torch: [ReportRow], tests: Int) -> String {
        func speedup(_ row: ReportRow) -> String {
            String(format: "%.2f× smaller, %.2f× faster at batch 1, %.2f× at 64, %+.2f points", Double(teacher.bytes) / Double(row.bytes),
                   teacher.latency1 / row.latency1, teacher.latency64 / row.latency64, (row.accuracy - teacher.accuracy) * 100)
        }
        func errors(_ row: ReportRow) -> Int { Int(((1 - row.accuracy) * Double(tests)).rounded()) }
        var lines = [
            "",
            String(format: "distillation: %d → %d test errors (%+.2f points)", errors(alone), errors(distilled),
                   (distilled.accuracy - alone.accuracy) * 100),
            String(format: "pruning: %.1f× fewer nonzero weights, %+.2f points", Double(teacher.nonzero) / Double(pruned.nonzero),
                   (pruned.accuracy - teacher.accuracy) * 100),
            "channel pruning: " + speedup(channels),
            "int8 (dynamic Linear): " + speedup(int8),
            "int8 (static conv + Linear): " + speedup(staticInt8),
        ]
        for (ours, theirs) in [(int8, "quantize_dynamic"), (staticInt8, "static"), (channels, "channels")] {
            guard let row = torch.first(where: { $0.model.contains(theirs) }) else { continue }
            lines.append("\(ours.model) against \(row.model): PyTorch's time / ours "
                         + String(format: "%.2f at batch 1, %.2f at 64", row.latency1 / ours.latency1, row.latency64 / ours.latency64))
        }
        return lines.joined(separator: "\n")
    }

    /// PyTorch's rows from Benchmarks/pytorch/compress.py on the saved teacher, or none (with the reason) when
    /// python3 cannot import torch or the script is not found.
    func pytorchRows(teacher: URL, channelPruned: URL, calibrationImages: Int) -> [ReportRow] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/pytorch/compress.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            print("(no PyTorch rows: \(script.path) not found)")
            return []
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", script.path, "--teacher", teacher.path, "--data-dir", dataDirectory,
                         "--sparsity", "\(sparsity)", "--repeats", "\(latencyRepeats)", "--channel-pruned", channelPruned.path,
                         "--calibration-images", "\(calibrationImages)"]
        if let testLimit { arguments += ["--test-limit", "\(testLimit)"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch {
            print("(no PyTorch rows: cannot run python3: \(error))")
            return []
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let rows = try? JSONDecoder().decode([ReportRow].self, from: data) else {
            print("(no PyTorch rows: compress.py exited with status \(process.terminationStatus); is torch installed?)")
            return []
        }
        return rows
    }
}
