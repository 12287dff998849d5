import Data
import Distributed
import Foundation
import MPITestSupport
import NN
import Testing
@testable import example_gan

private let childVariable = "GAN_DISTRIBUTED_CHILD"

/// example-gan trained data-parallel on 2 ranks under `mpirun`.
///
/// The training checks run this test binary under `mpirun -n 2`, each rank running only `childTrainsDataParallel`
/// (which does nothing unless the environment names a scenario): it trains a `GANTrainer` over the process group on
/// tiny synthetic images, checking after every batch that both ranks hold the same weights, and beside it, on every
/// rank, the same run in one process with the global batch. The command-line checks run the example-gan binary.
@Suite(.serialized, .enabled(if: mpirunPath != nil, mpirunMissing))
struct GANDistributedTests {
    private func runChild(_ scenario: String) throws -> MPIRunResult {
        try mpirunThisTest("childTrainsDataParallel", environment: [childVariable: scenario])
    }

    /// Without batch norm, 2 ranks × 2 images train as 1 process × 4 does, to float rounding, for DCGAN and for
    /// WGAN-GP (whose critic loss takes a double backward through the gradient penalty): the same losses and weights
    /// after 10 batches (10 D and 10 G updates; 10 critic and 2 generator updates). With batch norm — W4 as it is —
    /// each rank normalises with its own 2 images, so the runs differ by design, and only the replicas' equality is
    /// checked (next test).
    @Test(arguments: ["dcgan", "wgan-gp"])
    func twoRanksWithoutBatchNormMatchOneProcess(loss: String) throws {
        let run = try runChild("equivalence-\(loss)")
        #expect(!run.timedOut && run.status == 0, "\(run.output.suffix(3000))\(run.errors.suffix(3000))")
        #expect(run.output.contains("OK equivalence-\(loss)"), "\(run.output.suffix(3000))")
        for line in run.output.split(separator: "\n") where line.contains("largest difference") { print("GANDistributedTests: \(line)") }
    }

    /// W4 with batch norm: both networks stay bit-identical on the two ranks after every batch.
    @Test func replicasStayIdenticalWithBatchNorm() throws {
        let run = try runChild("batch-norm")
        #expect(!run.timedOut && run.status == 0, "\(run.output.suffix(3000))\(run.errors.suffix(3000))")
        #expect(run.output.contains("OK batch-norm"), "\(run.output.suffix(3000))")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil, "runs only under mpirun, started by the tests above"))
    func childTrainsDataParallel() throws {
        let scenario = ProcessInfo.processInfo.environment[childVariable]!
        let group = try ProcessGroup.world()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("example-gan-ddp-\(getppid())-\(group.rank)")
        defer { try? FileManager.default.removeItem(at: root) }
        group.abortingOnError {
            let loss: GANLoss = scenario.hasSuffix("wgan-gp") ? .wganGP : .dcgan
            // 20 images in batches of 4: 5 batches an epoch, so WGAN-GP makes one generator update per epoch.
            let data = tinyImages(count: 20)
            var configuration = GANConfiguration(loss: loss, epochs: 2, batchSize: 4,
                                                 outputDirectory: root.appendingPathComponent("parallel").path, group: group)
            configuration.batchNorm = scenario == "batch-norm"
            let parallel = GANTrainer(configuration)
            var batches = 0
            try parallel.train(on: data, log: { _ in }, afterBatch: {
                try parallel.checkReplicasMatch()
                batches += 1
            })
            try requireOnRank(batches == 10, "\(batches) batches instead of 10")
            // The replicas are equal, so rank 0 alone compares with the single process.
            if scenario.hasPrefix("equivalence") && group.isMain {
                configuration.group = nil
                configuration.outputDirectory = root.appendingPathComponent("single").path
                let single = GANTrainer(configuration)
                try single.train(on: data, log: { _ in })
                try compare(parallel, single, loss: loss)
            }
            if group.isMain { print("OK \(scenario)") }
        }
    }

    /// Throws unless the data-parallel run's losses are the single process's to float rounding, and its weights
    /// within what Adam makes of that rounding.
    ///
    /// Float sums over 2 + 2 images and over 4 round differently (the losses differ by about 1e-7). Adam divides each
    /// gradient element by its own running size plus eps (1e-8), so an element whose gradient is itself near 1e-8 takes
    /// a step that rounding of 1e-10 changes by a few percent of lr, and one that rounding flips takes a step the other
    /// way: up to about 2·lr per update, more while the early bias correction lets a step exceed lr. At the native
    /// kernels the weights agree to 1e-7 (DCGAN) and 1.6e-6 (WGAN-GP); at the generic kernels, whose sums round
    /// differently, 42% of the DCGAN generator's first-layer weights differ by more than 1e-5, the largest by 7.7e-4
    /// (3.9·lr after 10 updates) and the losses by 7.5e-6 by the last batch, while one backward pass of 4 images and
    /// of 2 + 2 agree to 3e-10 at that level (the weights then feed the differences back into the losses). So the
    /// losses are held to 1e-4 — wrong noise rows or a missed all-reduce move them by 1e-3 and more — and the weights
    /// to 2·lr per update.
    private func compare(_ parallel: GANTrainer, _ single: GANTrainer, loss: GANLoss) throws {
        let losses = zip(parallel.discriminatorLosses + parallel.generatorLosses, single.discriminatorLosses + single.generatorLosses)
        let worstLoss = losses.map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        try requireOnRank(parallel.discriminatorLosses.count == single.discriminatorLosses.count
                    && parallel.generatorLosses.count == single.generatorLosses.count
                    && worstLoss < 1e-4, "losses differ by \(worstLoss)")
        var worstWeight = 0.0
        for (mine, reference) in [(parallel.generator, single.generator), (parallel.discriminator, single.discriminator)] {
            for (a, b) in zip(mine.namedParameters(), reference.namedParameters()) {
                worstWeight = max(worstWeight, (a.variable.value - b.variable.value).abs().max().item)
            }
        }
        let updates = max(parallel.discriminatorLosses.count, parallel.generatorLosses.count)
        let tolerance = 2 * Double(updates) * single.configuration.learningRateG
        try requireOnRank(worstWeight < tolerance, "weights differ by \(worstWeight), more than \(tolerance)")
        print("\(loss.rawValue): largest difference from one process: losses \(worstLoss), weights \(worstWeight)")
    }

    // MARK: The command line

    private func temporaryDirectory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("example-gan-distributed-\(name)-\(UUID().uuidString)")
    }

    /// `mpirun -n 2 example-gan --distributed` on tiny IDX files: one report (rank 0's), rank 0's outputs, and
    /// `--resume` on both ranks from rank 0's checkpoint.
    @Test func exampleTrainsAndResumesUnderMPIRun() throws {
        let data = temporaryDirectory("data"), output = temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: output) }
        try writeTinyFashionMNIST(to: data, trainCount: 16, testCount: 10)
        let arguments = ["--distributed", "--data-dir", data.path, "--output-dir", output.path, "--batch-size", "8",
                         "--subset", "16", "--threads", "1"]
        let first = try mpirun(builtProduct("example-gan"), arguments + ["--epochs", "1"], timeout: 300)
        #expect(first.status == 0, "\(first.output)\(first.errors)")
        #expect(first.output.components(separatedBy: "epoch 1: D").count == 2, "\(first.output)")
        #expect(first.output.contains("over 2 ranks (4 each)"), "\(first.output)")
        for file in ["samples.png", "samples-epoch-1.png", "losses.png", "generator.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file) missing")
        }
        let resumed = try mpirun(builtProduct("example-gan"), arguments + ["--epochs", "2", "--resume"], timeout: 300)
        #expect(resumed.status == 0, "\(resumed.output)\(resumed.errors)")
        #expect(resumed.output.contains("resuming after epoch 1"), "\(resumed.output)")
        #expect(resumed.output.components(separatedBy: "epoch 2: D").count == 2, "\(resumed.output)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("samples-epoch-2.png").path))
    }

    /// Rank 0 cannot write its samples after epoch 1 (a directory stands where the file goes) while rank 1, which
    /// writes nothing, goes on into epoch 2: the job ends with rank 0's error, not when rank 1's collective times out.
    @Test func aRankThatFailsEndsTheJob() throws {
        let data = temporaryDirectory("data"), output = temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: output) }
        try writeTinyFashionMNIST(to: data, trainCount: 16, testCount: 10)
        try FileManager.default.createDirectory(at: output.appendingPathComponent("samples-epoch-1.png"), withIntermediateDirectories: true)
        let run = try mpirun(builtProduct("example-gan"),
                             ["--distributed", "--data-dir", data.path, "--output-dir", output.path, "--batch-size", "8",
                              "--subset", "16", "--threads", "1", "--epochs", "3"],
                             timeout: 300, environment: ["AUTOGRAD_COLLECTIVE_TIMEOUT": "600"])
        #expect(!run.timedOut, "the job hung for \(run.seconds) s")
        #expect(run.status != 0)
        #expect(run.errors.contains("could not write outputs to \(output.path)"), "\(run.errors)")
        #expect(!run.output.contains("epoch 2: D"), "\(run.output)")
    }

    /// `--distributed` outside mpirun, a global batch that does not split over the ranks or leaves a rank one image
    /// (batch norm needs two), and `--sample` with `--distributed` are refused with a message and a non-zero status.
    @Test func badDistributedArgumentsAreRefused() throws {
        let alone = try runExampleBinary("example-gan", ["--distributed", "--data-dir", "/nonexistent"])
        #expect(alone.status != 0 && alone.errors.contains("start it with mpirun"), "\(alone.errors)")
        let sample = try runExampleBinary("example-gan", ["--distributed", "--sample", "4"])
        #expect(sample.status != 0 && sample.errors.contains("without --distributed"), "\(sample.errors)")
        for (batch, message) in [("7", "--batch-size 7 does not split evenly over 2 ranks"),
                                 ("2", "needs at least 2 per rank")] {
            let run = try mpirun(builtProduct("example-gan"), ["--distributed", "--batch-size", batch, "--data-dir", "/nonexistent"],
                                 timeout: 120)
            #expect(run.status != 0 && run.errors.contains(message), "\(run.errors)")
        }
    }
}

/// A check of a test that runs as one rank of an `mpirun` job: thrown inside `ProcessGroup.abortingOnError`, it ends
/// the job with its message, where a failed expectation would leave the other rank waiting.
struct RankCheckFailure: Error, CustomStringConvertible {
    let description: String
}

/// Throws ``RankCheckFailure`` with `message` unless `condition` holds.
func requireOnRank(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw RankCheckFailure(description: message()) }
}
