import ArgumentParser
import Data
import ExampleSupport
import Foundation
import ONNX
import NN
import Optim
import Training

@main
struct ExampleGAN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-gan",
        abstract: "Train a DCGAN (workload W4) or a WGAN-GP on Fashion-MNIST and draw garments.",
        discussion: """
        Pixels are scaled to [-1, 1]. After every epoch it writes an 8×8 grid of samples from one fixed noise batch \
        (samples-epoch-N.png and samples.png), the D and G losses (losses.png), a checkpoint set in checkpoints/ \
        (both networks, both optimisers, loss history, epoch, random-generator state; written so that a kill at any \
        instant leaves the previous set or the new one whole; the newest three are kept) and a copy of the \
        generator, generator.safetensors. --resume continues from the newest complete set. The default (\(defaultEpochs) epochs on the first \
        \(defaultSubset) training images: 1,600 steps) took 97 s in a release build on 2 cores (about 60 ms per \
        step) and draws recognisable trousers, shirts, dresses, shoes and bags.
        --loss wgan-gp trains WGAN-GP: critic without batch norm, gradient penalty λ = 10, 5 critic updates per \
        generator update, Adam 1e-4, betas (0.5, 0.9). It makes one generator update per 5 batches, each critic \
        update costs about twice a DCGAN step, and it needs many more epochs than DCGAN for clear samples.
        --judge PATH scores 1000 samples with a classifier trained by example-cnn (out/cnn/model.safetensors): \
        mean top-class confidence, fraction above 0.9 and the entropy of the predicted classes (max ln 10 ≈ 2.303), \
        beside the same score for 1000 real test images.
        --sample N --checkpoint PATH writes N new samples without training, from a generator file, a checkpoint set \
        (checkpoints/step-…) or the newest complete set in a checkpoints directory.
        --distributed trains data-parallel under mpirun (`mpirun -n 2 example-gan --distributed --threads 1`): \
        --batch-size stays the global batch, each rank trains on its share of it and draws its share of the noise; \
        batch norm normalises with each rank's own images; rank 0 prints and writes everything. --resume needs the \
        output directory's checkpoints on every rank.
        """
    )

    static let defaultEpochs = 4
    static let defaultSubset = 25_600

    @Option(help: "dcgan or wgan-gp.") var loss = GANLoss.dcgan
    @Option(help: "Number of passes over the training images.") var epochs = defaultEpochs
    @Option(name: .customLong("batch-size"), help: "Images per batch.") var batchSize = 64
    @Option(name: .customLong("lr"), help: "Learning rate of both networks (default 2e-4 for dcgan, 1e-4 for wgan-gp).")
    var learningRate: Double?
    @Option(name: .customLong("lr-g"), help: "Generator learning rate (overrides --lr).") var learningRateG: Double?
    @Option(name: .customLong("lr-d"), help: "Discriminator (critic) learning rate (overrides --lr).") var learningRateD: Double?
    @Option(help: "Seed for initialisation, shuffling and noise.") var seed: UInt64 = 0
    @Option(name: .customLong("data-dir"), help: "Directory with the Fashion-MNIST IDX files.")
    var dataDirectory = FashionMNIST.defaultDirectory
    @Option(name: .customLong("output-dir"), help: "Where samples, plots and checkpoints go (default out/gan; out/gan-wgan-gp for wgan-gp).")
    var outputDirectory: String?
    @Option(name: .customLong("class"), help: "Train on this Fashion-MNIST class only (0-9, e.g. 1 = Trouser).")
    var onlyClass: Int?
    @Option(help: "Train on the first N training images (after --class); 0 for all 60,000. Default \(defaultSubset), which keeps the default run near a minute of training on 2 cores.")
    var subset = defaultSubset
    @Option(help: "Threads for matrix products, convolutions and large elementwise loops.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Continue from the newest complete checkpoint set in <output-dir>/checkpoints (from the start when there is none).")
    var resume = false
    @Flag(name: .customLong("detect-anomaly"), help: "When training diverges, name the op that first produced a NaN or infinity (slower).")
    var detectAnomaly = false
    @Option(help: "Write N samples from --checkpoint as a grid instead of training.") var sample: Int?
    @Option(help: "For --sample: a generator safetensors file, a checkpoint set directory, or a directory of sets (its newest complete one). Default <output-dir>/generator.safetensors.")
    var checkpoint: String?
    @OptionGroup var onnx: ONNXExportOptions
    @OptionGroup var parallel: DistributedOptions
    @Option(help: "A classifier checkpoint from example-cnn (--model cnn) that scores generated and real images.")
    var judge: String?
    @Option(name: .customLong("judge-samples"), help: "Images the judge scores.") var judgeSamples = 1000

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        for (name, rate) in [("--lr", learningRate), ("--lr-g", learningRateG), ("--lr-d", learningRateD)] {
            if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("\(name) must be a positive number, got \(rate)") }
        }
        if let onlyClass, !(0..<10).contains(onlyClass) { throw ValidationError("--class must be 0-9, got \(onlyClass)") }
        guard subset >= 0 else { throw ValidationError("--subset must be 0 (all) or positive, got \(subset)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        if let sample, sample <= 0 { throw ValidationError("--sample must be positive, got \(sample)") }
        if let sample { try Self.checkSampleFits(sample) }
        guard judgeSamples > 0 else { throw ValidationError("--judge-samples must be positive, got \(judgeSamples)") }
        if sample != nil && parallel.distributed {
            throw ValidationError("--sample draws from a saved generator without training; run it without --distributed and mpirun")
        }
    }

    var output: String { outputDirectory ?? loss.defaultOutputDirectory }

    /// Bytes one sample takes while the generator draws a batch of them (its activations, their Float copies and
    /// the grid's pixels), generously rounded.
    static let bytesPerSample = 256 * 1024

    /// Refuses a `--sample` count whose one generator batch would not fit in half of this machine's memory (and
    /// so would stop with "failed to allocate" at best), or whose grid would be wider than the PNG readers take (ImageSizeLimit).
    static func checkSampleFits(_ count: Int, memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesPerSample)
        let available = memory / 2
        guard !overflow, UInt64(bytes) <= available else {
            let gib = { (b: Double) in String(format: "%.1f GiB", b / Double(1 << 30)) }
            throw ValidationError("--sample \(count) needs about \(overflow ? "more than 8 EiB" : gib(Double(bytes))) for one "
                                  + "generator batch; this machine has \(gib(Double(memory))) (at most \(available / UInt64(bytesPerSample)) samples)")
        }
        let side = Int(Double(count).squareRoot().rounded(.up)) * 30 + 2
        guard side <= ImageSizeLimit.maximumSide else {
            throw ValidationError("--sample \(count) makes a grid \(side) pixels wide, more than the \(ImageSizeLimit.maximumSide) a side that PNG files here may have")
        }
    }

    var ganConfiguration: GANConfiguration {
        GANConfiguration(loss: loss, epochs: epochs, batchSize: batchSize, learningRateG: learningRateG ?? learningRate,
                         learningRateD: learningRateD ?? learningRate, seed: seed, outputDirectory: output)
    }

    func run() throws {
        warnIfDebugBuild(example: "example-gan")
        // Before anything is read or written, so that a job started wrongly stops at once on every rank.
        let group = parallel.start(globalBatchSize: batchSize, minimumPerRank: 2,
                                   reason: "the generator's batch norm takes statistics over each rank's share")
        requireWritableDirectory(output)
        BLAS.threadCount = threads
        let classifier = judge.map(loadJudge)
        if let sample {
            try writeSamples(count: sample, classifier: classifier)
            return
        }
        let train: FashionMNIST
        do { train = try FashionMNIST(directory: dataDirectory, split: .train) } catch { exitWithError(error.description) }
        var indices = Array(0..<train.count)
        if let onlyClass { indices = indices.filter { train.labels[$0] == onlyClass } }
        if subset > 0 { indices = Array(indices.prefix(subset)) }
        guard indices.count >= batchSize else {
            exitWithError("only \(indices.count) training images selected; --batch-size \(batchSize) needs at least that many")
        }
        let what = onlyClass.map { "class \($0) (\(FashionMNIST.classNames[$0]))" } ?? "all classes"
        print("Fashion-MNIST: \(indices.count) of \(train.count) training images (\(what)) from \(dataDirectory)")
        print("Kernels: \(InstructionSet.summary); Float products: \(BLAS.floatProductKernels), \(threads) thread(s); \(loss.rawValue), batch \(batchSize)"
              + (group.map { " over \($0.worldSize) ranks (\(batchSize / $0.worldSize) each)" } ?? ""))

        var configuration = ganConfiguration
        configuration.group = group
        let trainer = GANTrainer(configuration)
        if resume {
            do {
                if let set = try trainer.resume() {
                    print("resuming after epoch \(trainer.epochsDone) from \(set.url.path)")
                } else {
                    print("no complete checkpoint set in \(output)/\(GANTrainer.File.checkpoints); starting from epoch 1")
                }
            } catch {
                exitWithError("cannot resume: \(error)")
            }
        }
        do {
            let data = Subset(train, indices: indices)
            if detectAnomaly {
                try Graph.withAnomalyRecording { try trainer.train(on: data) }
            } else {
                try trainer.train(on: data)
            }
        } catch let error as ResumeMismatchError {
            exitWithError("cannot resume: \(error)")
        } catch let error as NonFiniteError {
            exitWithError("""
                training diverged at epoch \(trainer.epochsDone + 1), \(error); stopped before writing that epoch's \
                outputs (the newest checkpoint set in \(output)/\(GANTrainer.File.checkpoints), if any, is from epoch \(trainer.epochsDone)). \
                Try a lower --lr (or --lr-g / --lr-d)\(detectAnomaly ? "" : "; --detect-anomaly names the op behind it").
                """)
        } catch {
            exitWithError("could not write outputs to \(output): \(error)")
        }
        if let median = trainer.msPerBatch.sorted().dropFirst(trainer.msPerBatch.count / 2).first {
            print(String(format: "%.1f ms per %@ (median)", median, loss == .dcgan ? "GAN step (one D and one G update)" : "critic batch"))
        }
        // Every rank holds the same generator; rank 0 writes and judges, as it writes everything else.
        guard group?.isMain ?? true else { return }
        onnx.exportIfRequested(trainer.generator, input: ONNXInput(name: "noise", shape: [1, latentSize]))
        if let classifier { score(trainer.generate, classifier: classifier) }
    }

    /// Loads a generator checkpoint and writes `count` samples as a grid, then scores samples if judged.
    func writeSamples(count: Int, classifier: Module?) throws {
        let path = checkpoint ?? "\(output)/\(GANTrainer.File.generator)"
        let trainer = GANTrainer(ganConfiguration)
        do {
            _ = try trainer.generator.load(from: try generatorFile(at: URL(fileURLWithPath: path)))
        } catch {
            exitWithError("cannot load generator checkpoint \(path): \(error)\n(train first with `swift run -c release example-gan`, or pass --checkpoint)")
        }
        let noise = Tensor.randn([count, latentSize], generator: RandomGenerator(seed: seed))
        let columns = Int(Double(count).squareRoot().rounded(.up))
        let file = URL(fileURLWithPath: output).appendingPathComponent("generated-\(count).png")
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try ImageGrid.save(trainer.generate(noise: noise), to: file, columns: columns, range: -1...1)
        } catch {
            exitWithError("could not write \(file.path): \(error)")
        }
        print("wrote \(count) samples from \(path) to \(file.path)")
        onnx.exportIfRequested(trainer.generator, input: ONNXInput(name: "noise", shape: [1, latentSize]))
        if let classifier { score(trainer.generate, classifier: classifier) }
    }

    /// The generator's safetensors file that `url` names: `url` itself when it is a file; the generator
    /// (`model.safetensors`) of a set when it is a complete set's directory, or of the newest complete set when it
    /// is a directory of sets.
    ///
    /// - Throws: ``CheckpointError`` for an incomplete set, or a directory that holds no complete set.
    func generatorFile(at url: URL) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else { return url }
        let set: CheckpointSet
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("manifest.json").path) {
            set = try CheckpointSet(verifying: url)
        } else if let newest = CheckpointDirectory.latestComplete(in: url) {
            set = newest
        } else {
            throw CheckpointError.incomplete(path: url.path, reason: "neither a checkpoint set nor a directory holding a complete one")
        }
        return set.url.appendingPathComponent("model.safetensors")
    }

    /// The example-cnn classifier at `path`, or a clear exit.
    func loadJudge(_ path: String) -> Module {
        let classifier = CNNModel.cnn.make(inputChannels: 1)
        do {
            try classifier.load(from: URL(fileURLWithPath: path))
        } catch {
            exitWithError("cannot load judge \(path): \(error)\n(train one with `swift run -c release example-cnn`, which writes out/cnn/model.safetensors)")
        }
        return classifier
    }

    /// Prints the judge's score of `judgeSamples` generated images and of as many real test images.
    func score(_ generate: (Tensor) -> Tensor, classifier: Module) {
        let random = RandomGenerator(seed: seed &+ 0x1D6E)
        let generated = generate(Tensor.randn([judgeSamples, latentSize], generator: random))
        let fake = SampleScore(classifier: classifier, images: (generated + 1) * 0.5)
        print("judge, \(judgeSamples) generated images: \(fake.summary)")
        print("  predicted classes: " + zip(FashionMNIST.classNames, fake.classCounts).map { "\($0) \($1)" }.joined(separator: ", "))
        do {
            let test = try FashionMNIST(directory: dataDirectory, split: .test)
            let count = min(judgeSamples, test.count)
            let real = SampleScore(classifier: classifier, images: test.images.sliced(axis: 0, start: 0, end: count))
            print("judge, \(count) real test images: \(real.summary)")
        } catch {
            print("(no real-image reference: \(error.description))")
        }
    }
}

extension GANLoss: ExpressibleByArgument {}
