import Data
import Distributed
import Foundation
import MPITestSupport
import NN
import Testing
@testable import example_text

private let childVariable = "TEXT_DISTRIBUTED_CHILD"

/// example-text trained data-parallel on 2 ranks under `mpirun`: this test binary under `mpirun -n 2`, each rank running
/// only `childTrainsTextDataParallel`, trains a tiny GPT or the LSTM over the process group on a synthetic token
/// sequence, checks after every step that both ranks hold the same weights, and rank 0 compares with the same run in
/// one process with the global batch. Neither model has batch statistics, so the two must agree to float rounding.
@Suite(.serialized, .enabled(if: mpirunPath != nil, mpirunMissing))
struct TextDistributedTests {
    /// 12 steps of 2 ranks × 2 windows against 1 process × 4, across an epoch boundary (8 batches an epoch), with
    /// AdamW, the warm-up and cosine schedule and gradient clipping.
    @Test(arguments: ["gpt", "lstm"])
    func twoRanksMatchOneProcess(model: String) throws {
        let run = try mpirunThisTest("childTrainsTextDataParallel", environment: [childVariable: model])
        #expect(!run.timedOut && run.status == 0, "\(run.output.suffix(3000))\(run.errors.suffix(3000))")
        #expect(run.output.contains("OK \(model)"), "\(run.output.suffix(3000))")
        for line in run.output.split(separator: "\n") where line.contains("largest difference") { print("TextDistributedTests: \(line)") }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil, "runs only under mpirun, started by the test above"))
    func childTrainsTextDataParallel() throws {
        let kind = ProcessInfo.processInfo.environment[childVariable]!
        let group = try ProcessGroup.world()
        group.abortingOnError {
            // 40 tokens make 32 windows of 8: 8 batches of 4 an epoch.
            let tokens = (0..<40).map { ($0 * 7 + $0 / 5) % 11 }
            let windows = try LanguageModelWindows(tokens: tokens, contextLength: 8, source: "synthetic")
            let validation = try validationWindows(tokens, contextLength: 8, count: 4, source: "synthetic")
            func trainer(group: ProcessGroup?) -> LanguageModelTrainer {
                let model: LanguageModel = kind == "gpt"
                    ? GPT(TextExampleTests.tiny, generator: RandomGenerator(seed: 3))
                    : CharLSTM(vocabularySize: 11, width: 16, generator: RandomGenerator(seed: 3))
                var configuration = kind == "gpt" ? TextModel.gpt.defaults : TextModel.lstm.defaults
                configuration.steps = 12
                configuration.batchSize = 4
                configuration.contextLength = 8
                configuration.warmupSteps = 2
                configuration.evalEvery = 6
                configuration.group = group
                return LanguageModelTrainer(model: model, configuration: configuration)
            }
            let parallel = trainer(group: group)
            var steps = 0
            try parallel.train(windows, validation: validation, afterStep: {
                try parallel.checkReplicasMatch()
                steps += 1
            })
            try requireOnRank(steps == 12, "\(steps) steps instead of 12")
            guard group.isMain else { return }
            let single = trainer(group: nil)
            try single.train(windows, validation: validation)
            let worstLoss = zip(parallel.trainLosses, single.trainLosses).map { abs($0 - $1) }.max() ?? .infinity
            try requireOnRank(parallel.trainLosses.count == 12 && worstLoss < 1e-5, "losses differ by \(worstLoss)")
            var worstWeight = 0.0
            for (a, b) in zip(parallel.model.parameters(), single.model.parameters()) {
                worstWeight = max(worstWeight, (a.value - b.value).abs().max().item)
            }
            // As for the GAN: Adam may turn a rounding-size gradient into a step of either sign.
            let tolerance = 1.5 * single.configuration.learningRate
            try requireOnRank(worstWeight < tolerance, "weights differ by \(worstWeight), more than \(tolerance)")
            print("\(kind): largest difference from one process: losses \(worstLoss), weights \(worstWeight)")
            print("OK \(kind)")
        }
    }
}

/// The example-text binary under `mpirun -n 2 --distributed`: one report and rank 0's outputs; batches that do not
/// split and `--generate` with `--distributed` are refused.
@Suite(.enabled(if: mpirunPath != nil, mpirunMissing))
struct TextDistributedCommandLineTests {
    @Test func trainsUnderMPIRunAndRefusesBadArguments() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("example-text-distributed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("text.txt")
        try Foundation.Data(String(repeating: "It was the best of times, it was the worst of times.\n", count: 12).utf8).write(to: text)
        let out = dir.appendingPathComponent("out").path
        let arguments = ["--distributed", "--text", text.path, "--steps", "3", "--context", "8", "--eval-every", "2",
                         "--warmup", "1", "--sample-tokens", "5", "--threads", "1", "--output-dir", out]
        let run = try mpirun(builtProduct("example-text"), arguments + ["--batch-size", "4"], timeout: 300)
        #expect(run.status == 0, "\(run.output)\(run.errors)")
        #expect(run.output.contains("2 ranks, 2 windows each"), "\(run.output)")
        #expect(run.output.components(separatedBy: "step 3: train loss").count == 2, "\(run.output)")
        for file in ["model.safetensors", "tokenizer.json", "losses.png"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let uneven = try mpirun(builtProduct("example-text"), arguments + ["--batch-size", "3"], timeout: 120)
        #expect(uneven.status != 0 && uneven.errors.contains("--batch-size 3 does not split evenly over 2 ranks"), "\(uneven.errors)")
        let generate = try runExampleBinary("example-text", ["--distributed", "--generate", "3"])
        #expect(generate.status != 0 && generate.errors.contains("without --distributed"), "\(generate.errors)")
    }
}
