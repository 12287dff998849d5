import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Testing
import Training
@testable import example_gan

private func temporaryDirectory(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("example-gan-\(name)-\(UUID().uuidString)")
}

/// `count` 28×28 images in [0, 1]: a bright rectangle of random size and place on a dark background.
func tinyImages(count: Int, seed: UInt64 = 5) -> ArrayDataset<(Tensor, Int)> {
    let random = RandomGenerator(seed: seed)
    return ArrayDataset((0..<count).map { i in
        var image = Tensor.rand([1, 28, 28], generator: random) * 0.1
        let top = Int(random.nextBelow(14)), left = Int(random.nextBelow(14))
        for r in top..<(top + 10) { for c in left..<(left + 8) { image[0, r, c] = 0.9 } }
        return (image, i % 10)
    })
}

/// Replaces the weights and biases of `critic`'s convolutions and linear layers by `values`, in parameter order.
private func assignParameters(_ values: [Variable], to critic: Sequential) {
    var next = values.makeIterator()
    for layer in critic.layers {
        if let conv = layer as? Conv2d { conv.weight = next.next()!; if conv.bias != nil { conv.bias = next.next()! } }
        if let linear = layer as? Linear { linear.weight = next.next()!; if linear.bias != nil { linear.bias = next.next()! } }
    }
    precondition(next.next() == nil, "assignParameters: more values than parameters")
}

/// Runs the example-gan binary built next to the tests.
private func runExample(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    try runExampleBinary("example-gan", arguments)
}

@Suite struct GANExampleTests {
    @Test func networksHaveW4Shapes() {
        let generator = makeGenerator(), discriminator = makeDiscriminator()
        let images = generator(Variable(Tensor.randn([3, latentSize])))
        #expect(images.shape == [3, 1, 28, 28])
        #expect(images.value.doubles.allSatisfy { (-1...1).contains($0) })
        #expect(discriminator(images).shape == [3, 1])
        #expect(makeDiscriminator(batchNorm: false)(images).shape == [3, 1])
        #expect(!makeDiscriminator(batchNorm: false).modules().contains { $0 is BatchNorm })
        // W4's sizes: Linear 100→6272 (+ BN 6272), ConvT 128→64 (+ BN 64), ConvT 64→1; Conv 1→64, Conv 64→128, BN 128, Linear 6272→1.
        #expect(generator.parameterCount == 100 * 6272 + 6272 + 2 * 6272 + 128 * 64 * 16 + 64 + 2 * 64 + 64 * 16 + 1)
        #expect(discriminator.parameterCount == 16 * 64 + 64 + 64 * 128 * 16 + 128 + 2 * 128 + 6272 + 1)
        // The critic: no batch norm, no output bias.
        #expect(makeDiscriminator(batchNorm: false).parameterCount == 16 * 64 + 64 + 64 * 128 * 16 + 128 + 6272)
    }

    @Test(arguments: GANLoss.allCases)
    func twoStepsChangeEveryParameterWithFiniteLosses(loss: GANLoss) throws {
        let trainer = GANTrainer(GANConfiguration(loss: loss, batchSize: 4, outputDirectory: "unused"))
        let before = (trainer.generator.namedParameters() + trainer.discriminator.namedParameters()).map { ($0.name, $0.variable.value) }
        let random = RandomGenerator(seed: 1)
        var losses: [Double] = []
        for step in 0..<2 {
            let real = Tensor.stack((0..<4).map { tinyImages(count: 8)[4 * step + $0].0 }, axis: 0) * 2 - 1
            let noise = Tensor.randn([4, latentSize], generator: random)
            switch loss {
            case .dcgan:
                let (d, g) = try trainer.dcganStep(real: real, noise: noise)
                losses += [d, g]
            case .wganGP:
                losses.append(try trainer.criticStep(real: real, noise: noise, epsilon: Tensor.rand([4, 1, 1, 1], generator: random)))
                losses.append(try trainer.wganGeneratorStep(noise: noise))
            }
        }
        #expect(losses.allSatisfy { $0.isFinite }, "losses \(losses)")
        let after = trainer.generator.namedParameters() + trainer.discriminator.namedParameters()
        for ((name, old), (_, new)) in zip(before, after.map { ($0.name, $0.variable.value) }) {
            #expect(old != new, "\(loss.rawValue): parameter \(name) did not change")
        }
    }

    @Test func penaltyOfALinearCriticIsExact() {
        // D(x) = w·x + b has input gradient w everywhere: the penalty is λ(‖w‖ − 1)² whatever the interpolates.
        let critic = Sequential(Flatten(), Linear(6, 1)).to(.float64)
        let w = (critic.layers[1] as! Linear).weight.value.doubles
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let real = Tensor.randn([3, 1, 2, 3], dtype: .float64), fake = Tensor.randn([3, 1, 2, 3], dtype: .float64)
        let penalty = gradientPenalty(critic: { critic($0) }, real: real, fake: fake,
                                      epsilon: Tensor.rand([3, 1, 1, 1], dtype: .float64), weight: 10)
        #expect(Swift.abs(penalty.value.item - 10 * (norm - 1) * (norm - 1)) < 1e-9)
    }

    @Test func penaltyMatchesFiniteDifferencesOfTheCritic() {
        // The penalty's forward value: input gradients by central differences of a small W4-style critic.
        let critic = makeDiscriminator(batchNorm: false, width: 2, imageSize: 8).to(.float64)
        let real = Tensor.randn([2, 1, 8, 8], dtype: .float64), fake = Tensor.randn([2, 1, 8, 8], dtype: .float64)
        let epsilon = Tensor(shape: [2, 1, 1, 1], scalars: [0.3, 0.8])
        let interpolates = epsilon * real + (1 - epsilon) * fake
        var expected = 0.0
        for n in 0..<2 {
            var sumOfSquares = 0.0
            for i in 0..<64 {
                var plus = interpolates, minus = interpolates
                plus[flat: n * 64 + i] += 1e-6
                minus[flat: n * 64 + i] -= 1e-6
                let d = Graph.noGrad { (critic(Variable(plus)).value.sum().item - critic(Variable(minus)).value.sum().item) / 2e-6 }
                sumOfSquares += d * d
            }
            expected += 10 * (sumOfSquares.squareRoot() - 1) * (sumOfSquares.squareRoot() - 1) / 2
        }
        let penalty = gradientPenalty(critic: { critic($0) }, real: real, fake: fake, epsilon: epsilon)
        #expect(Swift.abs(penalty.value.item - expected) < 1e-6 * Swift.max(1, expected))
    }

    @Test func penaltyGradientWithRespectToCriticParametersMatchesFiniteDifferences() throws {
        // Second order end to end: d/dθ of λ(‖∇ₓ D_θ(x̂)‖ − 1)² through conv, LeakyReLU and linear layers.
        let critic = makeDiscriminator(batchNorm: false, width: 2, imageSize: 8).to(.float64)
        let parameters = critic.parameters().map(\.value)
        let real = Tensor.randn([2, 1, 8, 8], dtype: .float64), fake = Tensor.randn([2, 1, 8, 8], dtype: .float64)
        let epsilon = Tensor(shape: [2, 1, 1, 1], scalars: [0.25, 0.6])
        try gradcheck({ (weights: [Variable]) -> Variable in
            assignParameters(weights, to: critic)
            return gradientPenalty(critic: { critic($0) }, real: real, fake: fake, epsilon: epsilon)
        }, inputs: parameters)
    }

    @Test func trainingWritesReadablePNGsAndResumes() throws {
        let output = temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: output) }
        let data = tinyImages(count: 24)
        var configuration = GANConfiguration(epochs: 1, batchSize: 8, outputDirectory: output.path)
        let first = GANTrainer(configuration)
        try first.train(on: data, log: { _ in })
        #expect(first.discriminatorLosses.count == 3 && first.generatorLosses.count == 3)

        // An 8×8 grid of 28×28 samples with 2-pixel padding: 8·28 + 9·2 = 242 pixels square.
        for name in ["samples.png", "samples-epoch-1.png"] {
            let path = output.appendingPathComponent(name).path
            let bytes = [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Array(bytes.prefix(8)) == PNGImage.signature)
            let image = try PNGImage(contentsOf: path)   // validates every chunk's CRC
            #expect(image.width == 242 && image.height == 242 && image.colorType == .grayscale)
            #expect(Set(image.pixels).count > 2, "\(name) is blank")
        }
        let plot = try PNGImage(contentsOf: output.appendingPathComponent("losses.png").path)
        #expect(plot.width > 0 && plot.height > 0)

        // One complete set per epoch in checkpoints/, and a copy of its generator beside it.
        let sets = try CheckpointDirectory(output.appendingPathComponent(GANTrainer.File.checkpoints)).completeSets()
        #expect(sets.map(\.step) == [1] && sets.first?.metadata["epoch"] == "1" && sets.first?.metadata["model"] == "generator")
        let export = makeGenerator()
        try export.load(from: output.appendingPathComponent(GANTrainer.File.generator))
        #expect(export.stateDict() == first.generator.stateDict())

        // Resuming restores epoch, loss history, fixed noise and weights, then trains one more epoch.
        configuration.epochs = 2
        let second = GANTrainer(configuration)
        #expect(try second.resume()?.step == 1)
        #expect(second.epochsDone == 1)
        #expect(second.discriminatorLosses == first.discriminatorLosses)
        #expect(second.fixedNoise == first.fixedNoise)
        #expect(second.generator.stateDict() == first.generator.stateDict())
        #expect(second.discriminator.stateDict() == first.discriminator.stateDict())
        // Same weights, so the same samples; within rounding only, since tests running in parallel may change
        // BLAS.threadCount between the two calls, and products split differently can round differently.
        let (resumed, original) = (second.generate(noise: first.fixedNoise), first.generate(noise: first.fixedNoise))
        #expect((resumed - original).abs().max().item <= 1e-5)
        #expect(second.optimizerG.stateDict() == first.optimizerG.stateDict())
        try second.train(on: data, log: { _ in })
        #expect(second.epochsDone == 2 && second.discriminatorLosses.count == 6)
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("samples-epoch-2.png").path))

        // A WGAN-GP run refuses the DCGAN checkpoints, naming the set and both losses; a run in an empty directory
        // starts from the beginning.
        let other = GANTrainer(GANConfiguration(loss: .wganGP, outputDirectory: output.path))
        #expect {
            try other.resume()
        } throws: { error in
            "\(error)".contains("step-000000000002") && "\(error)".contains("--loss dcgan run, not --loss wgan-gp")
        }
        #expect(other.epochsDone == 0 && other.discriminatorLosses.isEmpty)
        #expect(try GANTrainer(GANConfiguration(outputDirectory: temporaryDirectory("empty").path)).resume() == nil)
    }

    /// 1 epoch, then `--resume` to 2, ends where 2 uninterrupted epochs end, bit for bit: losses, both networks
    /// (batch-norm statistics included) and both optimisers. It runs in a process of its own (see
    /// ``runTestInOwnProcess(_:)``).
    @Test func resumingMatchesAnUninterruptedRun() throws {
        let run = try runTestInOwnProcess("childComparesResumedRun")
        #expect(run.status == 0, "the child's comparison failed:\n\(run.output.suffix(4000))")
    }

    @Test(.enabled(if: runsAsChild("childComparesResumedRun"), "runs only as the child of resumingMatchesAnUninterruptedRun"))
    func childComparesResumedRun() throws {
        let root = temporaryDirectory("resume-equal")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = tinyImages(count: 24)
        func configuration(epochs: Int, _ name: String) -> GANConfiguration {
            GANConfiguration(epochs: epochs, batchSize: 8, outputDirectory: root.appendingPathComponent(name).path)
        }
        let whole = GANTrainer(configuration(epochs: 2, "whole"))
        try whole.train(on: data, log: { _ in })
        try GANTrainer(configuration(epochs: 1, "interrupted")).train(on: data, log: { _ in })
        let resumed = GANTrainer(configuration(epochs: 2, "interrupted"))
        #expect(try resumed.resume()?.metadata["epoch"] == "1")
        try resumed.train(on: data, log: { _ in })

        #expect(resumed.epochsDone == 2 && resumed.discriminatorLosses.count == 6 && resumed.generatorLosses.count == 6)
        #expect(resumed.discriminatorLosses == whole.discriminatorLosses, "\(resumed.discriminatorLosses) vs \(whole.discriminatorLosses)")
        #expect(resumed.generatorLosses == whole.generatorLosses, "\(resumed.generatorLosses) vs \(whole.generatorLosses)")
        for (name, a, b) in [("generator", resumed.generator.stateDict(), whole.generator.stateDict()),
                             ("discriminator", resumed.discriminator.stateDict(), whole.discriminator.stateDict()),
                             ("optimizer G", resumed.optimizerG.stateDict(), whole.optimizerG.stateDict()),
                             ("optimizer D", resumed.optimizerD.stateDict(), whole.optimizerD.stateDict())] {
            #expect(a.keys.sorted() == b.keys.sorted(), "\(name)")
            let differing = b.keys.filter { a[$0] != b[$0] }.sorted()
            #expect(differing.isEmpty, "\(name): \(differing) differ")
        }
        // Both runs end with the set of epoch 2.
        let sets = ["whole", "interrupted"].map {
            CheckpointDirectory.latestComplete(in: root.appendingPathComponent($0).appendingPathComponent(GANTrainer.File.checkpoints))
        }
        #expect(sets.map { $0?.step } == [2, 2] && sets.map { $0?.metadata["epoch"] } == ["2", "2"])
    }

    /// The bytes of every file under `directory`, by relative path.
    private func contents(of directory: URL) throws -> [String: Foundation.Data] {
        let base = directory.resolvingSymlinksInPath().path + "/"
        var files: [String: Foundation.Data] = [:]
        for case let url as URL in FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])! {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            files[String(url.resolvingSymlinksInPath().path.dropFirst(base.count))] = try Foundation.Data(contentsOf: url)
        }
        return files
    }

    @Test func divergingRunStopsBeforeOverwritingCheckpoints() throws {
        let output = temporaryDirectory("diverge")
        defer { try? FileManager.default.removeItem(at: output) }
        let data = tinyImages(count: 24)
        var configuration = GANConfiguration(epochs: 1, batchSize: 8, outputDirectory: output.path)
        try GANTrainer(configuration).train(on: data, log: { _ in })
        let good = try contents(of: output)
        #expect(good.keys.contains { $0.hasPrefix("checkpoints/step-") && $0.hasSuffix("/optimizer-discriminator.safetensors") })
        #expect(good[GANTrainer.File.generator] != nil && good["samples-epoch-1.png"] != nil)

        // Resumed with a learning rate far too high (example-gan --lr 1e30), epoch 2 diverges.
        configuration.epochs = 2
        configuration.learningRateG = 1e30
        configuration.learningRateD = 1e30
        let diverging = GANTrainer(configuration)
        try diverging.resume()
        var logged: [String] = []
        #expect {
            try diverging.train(on: data, log: { logged.append($0) })
        } throws: { error in
            guard let error = error as? NonFiniteError else { return false }
            return "\(error)".contains("step ")
        }
        #expect(diverging.epochsDone == 1)
        #expect(!logged.contains { $0.contains("nan") }, "\(logged)")
        // Nothing of epoch 2 was written; epoch 1's checkpoints, samples and plot are byte-identical.
        let after = try contents(of: output)
        #expect(after.keys.sorted() == good.keys.sorted())
        for (name, bytes) in good { #expect(after[name] == bytes, "\(name) was overwritten") }

        // A fresh run that diverges in its first epoch writes nothing at all.
        let fresh = temporaryDirectory("diverge-fresh")
        defer { try? FileManager.default.removeItem(at: fresh) }
        let first = GANTrainer(GANConfiguration(epochs: 1, batchSize: 8, learningRateG: 1e30, learningRateD: 1e30,
                                                outputDirectory: fresh.path))
        // With anomaly recording on (example-gan --detect-anomaly) the error names the op behind the first NaN.
        #expect {
            try Graph.withAnomalyRecording { try first.train(on: data, log: { _ in }) }
        } throws: { error in
            guard let error = error as? NonFiniteError else { return false }
            return "\(error)".contains("first non-finite value: op ")
        }
        #expect(!FileManager.default.fileExists(atPath: fresh.appendingPathComponent(GANTrainer.File.generator).path))
        #expect(CheckpointDirectory.latestComplete(in: fresh.appendingPathComponent(GANTrainer.File.checkpoints)) == nil)
    }

    @Test func judgeScoresConfidenceAndClassSpread() {
        // A classifier whose logits ignore the image: class 2 with probability 16/18 for every image.
        let classifier = Sequential(Flatten(), Linear(784, 3))
        let linear = classifier.layers[1] as! Linear
        linear.weight = Variable(Tensor.zeros([3, 784]))
        linear.bias = Variable(Tensor(shape: [3], scalars: [0, 0, Foundation.log(16.0)]))
        let score = SampleScore(classifier: classifier, images: Tensor.rand([7, 1, 28, 28]), batchSize: 3)
        #expect(Swift.abs(score.meanConfidence - 16.0 / 18) < 1e-5)
        #expect(score.confidentFraction == 0)
        #expect(score.classCounts == [0, 0, 7])
        #expect(score.classEntropy == 0)
        var spread = score
        spread.classCounts = [5, 5, 0]
        #expect(Swift.abs(spread.classEntropy - Foundation.log(2.0)) < 1e-12)
    }

    /// `--sample … --export-onnx` writes the loaded generator; onnxruntime draws from it what we draw.
    @Test(.enabled(if: onnxRuntimeIsImportable, "needs python3 with onnx and onnxruntime"))
    func exportsTheLoadedGeneratorToONNX() throws {
        let output = temporaryDirectory("onnx")
        defer { try? FileManager.default.removeItem(at: output) }
        let trainer = GANTrainer(GANConfiguration(outputDirectory: output.path))
        _ = try trainer.saveCheckpoint()
        let file = output.appendingPathComponent("generator.onnx").path
        let run = try runExample(["--sample", "4", "--checkpoint", output.appendingPathComponent(GANTrainer.File.generator).path,
                                  "--output-dir", output.path, "--export-onnx", file])
        #expect(run.status == 0, "\(run.errors)")
        let noise = Tensor.randn([3, latentSize], generator: RandomGenerator(seed: 9))
        trainer.generator.eval()
        let ours = Graph.noGrad { trainer.generator(Variable(noise)).value }
        expectClose(try onnxRuntimeOutput(file, input: "noise", shape: noise.shape, values: noise.doubles, dtype: "float32"), ours,
                    "generator images")
    }

    @Test func sampleModeWritesAGridFromAGeneratorCheckpoint() throws {
        let output = temporaryDirectory("sample")
        defer { try? FileManager.default.removeItem(at: output) }
        let set = try GANTrainer(GANConfiguration(outputDirectory: output.path)).saveCheckpoint()
        // The exported generator file, a set's directory, and the directory of sets (its newest complete one).
        let checkpoints = output.appendingPathComponent(GANTrainer.File.checkpoints)
        var grids: [[UInt8]] = []
        for checkpoint in [output.appendingPathComponent(GANTrainer.File.generator), set.url, checkpoints] {
            let run = try runExample(["--sample", "9", "--checkpoint", checkpoint.path, "--output-dir", output.path])
            #expect(run.status == 0, "\(checkpoint.path): \(run.errors)")
            // 9 samples in a 3×3 grid: 3·28 + 4·2 = 92 pixels square.
            let image = try PNGImage(contentsOf: output.appendingPathComponent("generated-9.png").path)
            #expect(image.width == 92 && image.height == 92)
            grids.append(image.pixels)
        }
        #expect(grids[1] == grids[0] && grids[2] == grids[0], "the same generator drew different samples")

        // A set whose file was cut short is refused, naming it; so is a directory without a complete set.
        let model = set.url.appendingPathComponent("model.safetensors")
        try Foundation.Data(try Foundation.Data(contentsOf: model).dropLast(1)).write(to: model)
        for checkpoint in [set.url, checkpoints] {
            let run = try runExample(["--sample", "4", "--checkpoint", checkpoint.path, "--output-dir", output.path])
            #expect(run.status != 0 && run.errors.contains(checkpoint.path), "\(run.errors)")
        }
        #expect(try runExample(["--sample", "4", "--checkpoint", set.url.path, "--output-dir", output.path]).errors.contains("model.safetensors differs"))
    }

    @Test func missingDataOrCheckpointExitsNonZeroWithAClearMessage() throws {
        let data = try runExample(["--data-dir", "/nonexistent/fashion-mnist", "--output-dir", temporaryDirectory("none").path])
        #expect(data.status != 0)
        #expect(data.errors.contains("apt-get install dataset-fashion-mnist"))
        let sample = try runExample(["--sample", "4", "--checkpoint", "/nonexistent/generator.safetensors"])
        #expect(sample.status != 0)
        #expect(sample.errors.contains("/nonexistent/generator.safetensors"))
    }
}

/// `--sample` counts that cannot be drawn are refused while the arguments are checked, with the memory they need,
/// instead of aborting with "failed to allocate" (a count of 1e8 did).
@Suite struct GANSampleSizeTests {
    @Test func countsPastHalfTheMemoryOrTheImageLimitAreRefused() {
        let eightGiB: UInt64 = 8 << 30
        #expect(throws: Never.self) { try ExampleGAN.checkSampleFits(64, memory: eightGiB) }
        #expect(throws: Never.self) { try ExampleGAN.checkSampleFits(16_384, memory: eightGiB) }   // 4 GiB: half
        #expect(throws: (any Error).self) { try ExampleGAN.checkSampleFits(16_385, memory: eightGiB) }
        #expect(throws: (any Error).self) { try ExampleGAN.checkSampleFits(100_000_000) }
        #expect(throws: (any Error).self) { try ExampleGAN.checkSampleFits(Int.max) }
        // Memory enough, but a grid wider than 65,536 pixels.
        #expect(throws: (any Error).self) { try ExampleGAN.checkSampleFits(5_000_000, memory: UInt64.max) }
        #expect(throws: (any Error).self) { try ExampleGAN.parseAsRoot(["--sample", "100000000"]) }
        do {
            try ExampleGAN.checkSampleFits(100_000_000, memory: eightGiB)
            Issue.record("100,000,000 samples accepted")
        } catch {
            #expect("\(error)".contains("--sample 100000000 needs about 24414.1 GiB") && "\(error)".contains("8.0 GiB"), "\(error)")
        }
    }
}

private let killedRunVariable = "GAN_EXAMPLE_KILLED_RUN_DIR"

private func killedRunConfiguration(_ output: String) -> GANConfiguration {
    GANConfiguration(batchSize: 8, outputDirectory: output)
}

/// Marks `trainer`'s state with `epoch` — the first weight tensor of each network filled with it, each optimizer's
/// learning rate `epoch`·1e-4 — and counts the epoch done, so that a set shows which epoch each of its parts is from.
private func stamp(_ trainer: GANTrainer, epoch: Int) {
    for network in [trainer.generator, trainer.discriminator] {
        let first = network.parameters()[0]
        first.value = Tensor.ones(first.shape) * Double(epoch)
    }
    trainer.optimizerG.learningRate = Double(epoch) * 1e-4
    trainer.optimizerD.learningRate = Double(epoch) * 1e-4
    trainer.epochsDone = epoch
}

/// The epoch `stamp` marked `network` with, or nil when its first weight tensor is not filled with one number.
private func stampedEpoch(_ network: Module) -> Int? {
    let values = Set(network.parameters()[0].value.doubles)
    return values.count == 1 ? Int(exactly: values.first!) : nil
}

// example-gan's save (the epoch's checkpoint set, then the generator copy beside it) runs in a loop in a child process
// that is killed with SIGKILL at seeded random instants, again and again; after every kill the newest complete set must
// restore with every part from its epoch and be newer than before, and the generator copy must be whole. The child is
// this test binary, started again to run only `childSavesUntilKilled`, which does nothing unless the environment names
// its directory (as TrainingTests' KilledSaveTests). Training itself writes nothing (see
// divergingRunStopsBeforeOverwritingCheckpoints), so the save is what a kill can interrupt.
@Suite struct GANKilledSaveTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment[killedRunVariable] != nil, "runs only as the child of killingTheSaveLeavesARestorableSet"))
    func childSavesUntilKilled() throws {
        let trainer = GANTrainer(killedRunConfiguration(ProcessInfo.processInfo.environment[killedRunVariable]!))
        if let set = CheckpointDirectory.latestComplete(in: URL(fileURLWithPath: trainer.configuration.outputDirectory)
                                                        .appendingPathComponent(GANTrainer.File.checkpoints)) {
            try trainer.checkpointDirectory().restore(set, into: trainer.trainingState)   // --resume, keeping the stamped rates
            trainer.epochsDone = Int(set.metadata["epoch"]!)!
        }
        while true {
            stamp(trainer, epoch: trainer.epochsDone + 1)
            try trainer.saveCheckpoint()
        }
    }

    @Test func killingTheSaveLeavesARestorableSet() throws {
        let output = temporaryDirectory("killed")
        defer { try? FileManager.default.removeItem(at: output) }
        let checkpoints = output.appendingPathComponent(GANTrainer.File.checkpoints)
        let export = output.appendingPathComponent(GANTrainer.File.generator)
        let random = RandomGenerator(seed: 16)
        let start = Date()
        var newest = 0, kills = 0
        // Bounded: no child is started after 6.5 s, and the test takes under 10 s. In a debug build a child needs about
        // 2 s to start (most of it initialising the networks) and 0.8 s per save, so that makes 2 to 4 kills; the
        // generic mechanism is killed 20 times in TrainingTests' KilledSaveTests.
        let trainer = GANTrainer(killedRunConfiguration(output.path)), copy = makeGenerator()
        while kills < 20 && Date().timeIntervalSince(start) < 6.5 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            child.arguments = ["--testing-library", "swift-testing", "--filter", "childSavesUntilKilled"]
            child.environment = ProcessInfo.processInfo.environment.merging([killedRunVariable: output.path]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Once it has saved a newer set (so that every round makes progress), kill it at a random instant of
            // the saves that follow: set files, manifest, rename, pruning, generator copy.
            let startup = Date()
            while child.isRunning && (CheckpointDirectory.latestComplete(in: checkpoints)?.metadata["epoch"].flatMap(Int.init) ?? 0) <= newest
                    && Date().timeIntervalSince(startup) < 30 {
                usleep(1_000)
            }
            usleep(UInt32(random.nextBelow(150_000)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            kills += 1
            #expect(child.terminationReason == .uncaughtSignal, "kill \(kills): the child stopped by itself (status \(child.terminationStatus))")

            let set = try #require(CheckpointDirectory.latestComplete(in: checkpoints), "kill \(kills): no complete set")
            let epoch = try #require(set.metadata["epoch"].flatMap(Int.init))
            #expect(epoch > newest, "kill \(kills): the newest complete set went from epoch \(newest) to \(epoch)")
            newest = epoch
            // Every part of the set is from its epoch.
            try trainer.checkpointDirectory().restore(set, into: trainer.trainingState)
            #expect(stampedEpoch(trainer.generator) == epoch && stampedEpoch(trainer.discriminator) == epoch, "kill \(kills): epoch \(epoch)")
            #expect(trainer.optimizerG.learningRate == Double(epoch) * 1e-4 && trainer.optimizerD.learningRate == Double(epoch) * 1e-4,
                    "kill \(kills): epoch \(epoch)")
            // The generator copy, written after the set, is whole: of this set's epoch, or older when kills came
            // between set and copy (absent when that happened every time).
            if FileManager.default.fileExists(atPath: export.path) {
                let copyEpoch = try copy.load(from: export)["epoch"].flatMap(Int.init)
                #expect(copyEpoch.map { $0 <= epoch } == true, "kill \(kills): copy of epoch \(copyEpoch ?? -1), set of epoch \(epoch)")
                #expect(stampedEpoch(copy) == copyEpoch, "kill \(kills)")
            }
        }
        #expect(kills >= 2, "only \(kills) kills in \(Date().timeIntervalSince(start)) s")
        print("GANKilledSaveTests: \(kills) kills, newest set of epoch \(newest), \(String(format: "%.1f", Date().timeIntervalSince(start))) s")

        // The next save clears what the killed saves left: staging directories and temporary generator copies.
        stamp(trainer, epoch: newest + 1)
        try trainer.saveCheckpoint()
        let sets = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path)
        #expect(sets.count <= 3 && sets.allSatisfy { $0.hasPrefix("step-") }, "\(sets)")
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(names == [GANTrainer.File.checkpoints, GANTrainer.File.generator], "\(names)")
        try copy.load(from: export)
        #expect(stampedEpoch(copy) == newest + 1)
    }
}
