import Data
import ExampleSupport
import Foundation
import NN
import Optim
import Testing
@testable import example_gan

private func temporaryDirectory(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("example-gan-\(name)-\(UUID().uuidString)")
}

/// `count` 28×28 images in [0, 1]: a bright rectangle of random size and place on a dark background.
private func tinyImages(count: Int, seed: UInt64 = 5) -> ArrayDataset<(Tensor, Int)> {
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

/// Runs the example-gan binary built next to the tests; returns its exit status, standard output and standard error.
private func runExample(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("example-gan")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "example-gan not built next to the tests at \(binary.path)")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
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

        // Resuming restores epoch, loss history, fixed noise and weights, then trains one more epoch.
        configuration.epochs = 2
        let second = GANTrainer(configuration)
        try second.resume()
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

        // A WGAN-GP run refuses the DCGAN checkpoints, naming the file.
        let other = GANTrainer(GANConfiguration(loss: .wganGP, outputDirectory: output.path))
        #expect(throws: CheckpointError.self) { try other.resume() }
    }

    /// The bytes of every file in `directory`, by name.
    private func contents(of directory: URL) throws -> [String: Foundation.Data] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Foundation.Data(contentsOf: directory.appendingPathComponent($0))) })
    }

    @Test func divergingRunStopsBeforeOverwritingCheckpoints() throws {
        let output = temporaryDirectory("diverge")
        defer { try? FileManager.default.removeItem(at: output) }
        let data = tinyImages(count: 24)
        var configuration = GANConfiguration(epochs: 1, batchSize: 8, outputDirectory: output.path)
        try GANTrainer(configuration).train(on: data, log: { _ in })
        let good = try contents(of: output)
        #expect(good[GANTrainer.File.optimizerG] != nil && good["samples-epoch-1.png"] != nil)

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

    @Test func sampleModeWritesAGridFromAGeneratorCheckpoint() throws {
        let output = temporaryDirectory("sample")
        defer { try? FileManager.default.removeItem(at: output) }
        try GANTrainer(GANConfiguration(outputDirectory: output.path)).saveCheckpoint()
        let checkpoint = output.appendingPathComponent(GANTrainer.File.generator).path
        let run = try runExample(["--sample", "9", "--checkpoint", checkpoint, "--output-dir", output.path])
        #expect(run.status == 0, "\(run.errors)")
        // 9 samples in a 3×3 grid: 3·28 + 4·2 = 92 pixels square.
        let image = try PNGImage(contentsOf: output.appendingPathComponent("generated-9.png").path)
        #expect(image.width == 92 && image.height == 92)
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
