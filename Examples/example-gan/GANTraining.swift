import Data
import Distributed
import ExampleSupport
import Foundation
import NN
import Optim
import Training

/// The objectives example-gan trains with.
enum GANLoss: String, CaseIterable {
    /// DCGAN (Radford et al. 2016): binary cross-entropy on logits; D learns real → 1, fake → 0; G is trained
    /// to make D say 1 (the non-saturating loss). One D update and one G update per batch.
    case dcgan
    /// WGAN-GP (Gulrajani et al. 2017): critic loss `D(fake) − D(real) + λ·(‖∇D(x̂)‖ − 1)²`, generator loss
    /// `−D(fake)`; ``criticSteps`` critic updates, each on its own batch, per generator update.
    case wganGP = "wgan-gp"

    /// Adam's learning rate for both networks: 2e-4 (DCGAN), 1e-4 (WGAN-GP paper).
    var defaultLearningRate: Double { self == .dcgan ? 2e-4 : 1e-4 }
    /// Adam's betas: (0.5, 0.999) (DCGAN), (0.5, 0.9) (WGAN-GP paper).
    var betas: (Double, Double) { self == .dcgan ? (0.5, 0.999) : (0.5, 0.9) }
    /// Discriminator (critic) updates per generator update.
    var criticSteps: Int { self == .dcgan ? 1 : 5 }
    /// Where a run writes by default.
    var defaultOutputDirectory: String { self == .dcgan ? "out/gan" : "out/gan-wgan-gp" }
}

/// What one GAN training run uses.
struct GANConfiguration {
    var loss = GANLoss.dcgan
    var epochs = 1
    var batchSize = 64
    var learningRateG: Double
    var learningRateD: Double
    var seed: UInt64 = 0
    /// Where sample grids, the loss plot and checkpoints go.
    var outputDirectory: String
    /// Batches per epoch to use (all when nil); smoke tests use a few.
    var stepLimit: Int? = nil
    /// λ of the gradient penalty (WGAN-GP).
    var penaltyWeight = 10.0
    /// The ranks to train on data-parallel, ``batchSize`` being the global batch split evenly over them; one process
    /// when nil.
    var group: ProcessGroup? = nil
    /// Whether the networks use batch norm (W4 does). Tests that compare data-parallel training with one process
    /// turn it off: each rank normalises with its own share of the batch, so with batch norm 2 ranks × B train like
    /// 2 replicas with batch B each, not like one process with batch 2B.
    var batchNorm = true

    init(loss: GANLoss = .dcgan, epochs: Int = 1, batchSize: Int = 64, learningRateG: Double? = nil,
         learningRateD: Double? = nil, seed: UInt64 = 0, outputDirectory: String, stepLimit: Int? = nil,
         group: ProcessGroup? = nil) {
        self.loss = loss
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRateG = learningRateG ?? loss.defaultLearningRate
        self.learningRateD = learningRateD ?? loss.defaultLearningRate
        self.seed = seed
        self.outputDirectory = outputDirectory
        self.stepLimit = stepLimit
        self.group = group
    }
}

/// A generator, a discriminator (critic), their Adam optimisers, one fixed noise batch for sample grids,
/// and the loss history: everything a GAN run checkpoints and resumes.
///
/// With ``GANConfiguration/group`` it trains data-parallel: each network has its own ``DistributedDataParallel``,
/// synchronised after each backward that feeds its optimiser — the discriminator's in a D update, the generator's in
/// a G update. A network that gets no gradient in an update (the generator in a D update, the frozen discriminator in
/// a G update) is not synchronised then, so no rank waits for gradients that no rank computes. Only rank 0 logs and
/// writes samples, plots and checkpoints; the losses recorded are the means over ranks.
final class GANTrainer {
    let configuration: GANConfiguration
    let generator: Sequential
    let discriminator: Sequential
    let optimizerG: Adam
    let optimizerD: Adam
    /// The noise behind every sample grid, so grids of successive epochs are comparable.
    private(set) var fixedNoise: Tensor
    /// Epochs completed (counted by ``train(on:log:)``, restored by ``resume()``; the saves name it).
    var epochsDone = 0
    /// The discriminator's (critic's) loss after each of its updates.
    private(set) var discriminatorLosses: [Double] = []
    /// The generator's loss after each of its updates.
    private(set) var generatorLosses: [Double] = []
    /// Median milliseconds per batch (DCGAN: one D and one G update; WGAN-GP: one critic update, plus a
    /// generator update every ``GANLoss/criticSteps`` batches), one entry per epoch trained in this process.
    private(set) var msPerBatch: [Double] = []
    /// The data-parallel replicas of the two networks; made when training starts, after ``resume()``, so that they
    /// start from the restored weights.
    private var parallelG: DistributedDataParallel?
    private var parallelD: DistributedDataParallel?

    /// The number of samples in each grid (8 × 8).
    static let gridSize = 8

    /// Fresh networks initialised from `configuration.seed`.
    init(_ configuration: GANConfiguration) {
        self.configuration = configuration
        RandomGenerator.manualSeed(configuration.seed)
        generator = makeGenerator(batchNorm: configuration.batchNorm)
        discriminator = makeDiscriminator(batchNorm: configuration.batchNorm && configuration.loss == .dcgan)
        // Weights from a generator of the run's own, so that runs in one process (tests) do not share a sequence.
        let weights = RandomGenerator(seed: configuration.seed)
        initializeDCGANWeights(generator, generator: weights)
        initializeDCGANWeights(discriminator, generator: weights)
        let betas = configuration.loss.betas
        optimizerG = Adam(generator.parameters(), learningRate: configuration.learningRateG, betas: betas)
        optimizerD = Adam(discriminator.parameters(), learningRate: configuration.learningRateD, betas: betas)
        fixedNoise = Tensor.randn([Self.gridSize * Self.gridSize, latentSize],
                                  generator: RandomGenerator(seed: configuration.seed &+ 0x5EED))
    }

    // MARK: Updates

    /// One DCGAN step on real images in [−1, 1]: a D update on real (label 1) and fake (label 0) batches,
    /// then a G update with label 1 through the updated D. Returns both losses.
    ///
    /// - Throws: ``NonFiniteError`` when a loss or gradient is NaN or infinite, before the optimizer step
    ///   that would spread it; the step number is the update's (``discriminatorLosses``'s count + 1).
    func dcganStep(real: Tensor, noise: Tensor) throws -> (discriminator: Double, generator: Double) {
        let n = real.shape[0]
        let step = discriminatorLosses.count + 1
        let ones = Variable(Tensor.ones([n, 1])), zeros = Variable(Tensor.zeros([n, 1]))
        let fake = generator(Variable(noise))

        optimizerD.zeroGrad()
        let lossD = binaryCrossEntropyWithLogits(discriminator(Variable(real)), ones)
            + binaryCrossEntropyWithLogits(discriminator(fake.detach()), zeros)
        try NonFiniteCheck.loss(lossD, step: step, name: "discriminator")
        lossD.backward()
        parallelD?.synchronizeGradients()
        try checkGradients(of: discriminator, named: "discriminator", step: step)
        optimizerD.step()

        optimizerG.zeroGrad()
        let lossG = try withDiscriminatorFrozen {
            let loss = binaryCrossEntropyWithLogits(discriminator(fake), ones)
            try NonFiniteCheck.loss(loss, step: step, name: "generator")
            loss.backward()
            return loss
        }
        parallelG?.synchronizeGradients()
        try checkGradients(of: generator, named: "generator", step: step)
        optimizerG.step()
        return (lossD.value.item, lossG.value.item)
    }

    /// One WGAN-GP critic update: `D(fake) − D(real) + λ·GP` with `epsilon` ([N, 1, 1, 1], U[0, 1]) mixing
    /// real and fake for the penalty. Returns the critic's loss.
    ///
    /// The penalty's input gradient (`Graph.gradients`) accumulates nothing and calls no hook; the one backward
    /// that follows — through the penalty's recorded backward too — completes each critic weight's gradient once, so
    /// data-parallel training all-reduces the final gradients once per update.
    ///
    /// - Throws: ``NonFiniteError`` on a NaN or infinite loss or gradient, before the optimizer step.
    func criticStep(real: Tensor, noise: Tensor, epsilon: Tensor) throws -> Double {
        let step = discriminatorLosses.count + 1
        let fake = Graph.noGrad { generator(Variable(noise)).value }
        optimizerD.zeroGrad()
        let penalty = gradientPenalty(critic: { self.discriminator($0) }, real: real, fake: fake, epsilon: epsilon,
                                      weight: configuration.penaltyWeight)
        let loss = discriminator(Variable(fake)).mean() - discriminator(Variable(real)).mean() + penalty
        try NonFiniteCheck.loss(loss, step: step, name: "critic")
        loss.backward()
        parallelD?.synchronizeGradients()
        try checkGradients(of: discriminator, named: "critic", step: step)
        optimizerD.step()
        return loss.value.item
    }

    /// One WGAN-GP generator update: `−D(G(z))`. Returns the generator's loss.
    ///
    /// - Throws: ``NonFiniteError`` on a NaN or infinite loss or gradient, before the optimizer step.
    func wganGeneratorStep(noise: Tensor) throws -> Double {
        let step = generatorLosses.count + 1
        optimizerG.zeroGrad()
        let loss = try withDiscriminatorFrozen {
            let loss = -discriminator(generator(Variable(noise))).mean()
            try NonFiniteCheck.loss(loss, step: step, name: "generator")
            loss.backward()
            return loss
        }
        parallelG?.synchronizeGradients()
        try checkGradients(of: generator, named: "generator", step: step)
        optimizerG.step()
        return loss.value.item
    }

    /// Throws ``NonFiniteError`` when a gradient of `module` is NaN or infinite, naming the parameter
    /// as `<name>.<state-dict key>`.
    private func checkGradients(of module: Sequential, named name: String, step: Int) throws {
        let parameters = module.namedParameters().map { (name: "\(name).\($0.name)", variable: $0.variable) }
        try NonFiniteCheck.gradients(parameters, step: step)
    }

    /// Runs `body` — a generator update's forward and backward — with the discriminator's parameters not
    /// requiring gradients, so that backward goes through D to its input without computing D's weight gradients.
    ///
    /// Backward must run inside: the engine asks whether a leaf requires a gradient when backward reaches it, so a
    /// backward after D is unfrozen would compute D's weight gradients (for the next D update to zero) and, in a
    /// data-parallel run, hand them to D's ``DistributedDataParallel`` — a backward that no synchronisation follows,
    /// which its next backward would find still pending.
    private func withDiscriminatorFrozen<T>(_ body: () throws -> T) rethrows -> T {
        let parameters = discriminator.parameters()
        for p in parameters { p.requiresGrad = false }
        defer { for p in parameters { p.requiresGrad = true } }
        return try body()
    }

    // MARK: Training

    /// Trains from epoch ``epochsDone`` + 1 to `configuration.epochs` on images in [0, 1] (scaled to [−1, 1]
    /// here), with a progress bar, and after each epoch writes sample grids, the loss plot and checkpoints.
    ///
    /// Data-parallel (``GANConfiguration/group``), each rank reads its ``DistributedSampler`` share of every global
    /// batch, and draws the noise (and WGAN-GP's mixing weights) of the whole global batch from the common seed,
    /// keeping the rows of its own examples (``DistributedSampler/rows(of:)``): the ranks' noise differs, a run is
    /// reproducible, and without batch norm it trains as one process with the global batch does. `afterBatch` runs
    /// after every batch's updates, on every rank (tests check the replicas there).
    ///
    /// - Throws: ``NonFiniteError`` at the first NaN or infinite loss or gradient (a learning rate far too
    ///   high): the epoch it happens in writes nothing, so the checkpoints of the last good epoch stay
    ///   intact; `ResumeMismatchError` when the ranks resumed after different epochs; or the error of a file that
    ///   could not be written.
    func train<D: Dataset>(on data: D, log: (String) -> Void = { print($0) },
                           afterBatch: () throws -> Void = {}) throws where D.Element == (Tensor, Int) {
        let batchSize = configuration.batchSize
        precondition(data.count >= batchSize, "GANTrainer.train: \(data.count) examples make no batch of \(batchSize)")
        let group = configuration.group
        let isMain = group?.isMain ?? true
        func say(_ line: String) { if isMain { log(line) } }
        // Each rank's share of batch k is batch k of the global size, read in one process with the same seed; with
        // one rank this is the order of a shuffled DataLoader. Dropping the remainder before sharding keeps every
        // global batch free of the repeats padding would add, as the single process's dropLast does.
        let sampler = DistributedSampler(count: data.count, worldSize: group?.worldSize ?? 1, rank: group?.rank ?? 0,
                                         seed: configuration.seed, dropLast: true)
        precondition(batchSize % sampler.worldSize == 0, "GANTrainer.train: batch \(batchSize) does not split over \(sampler.worldSize) ranks")
        let localBatch = batchSize / sampler.worldSize
        let batches = min(sampler.samplesPerRank / localBatch, configuration.stepLimit ?? .max)
        let criticSteps = configuration.loss.criticSteps
        if let group { try startDataParallel(on: group) }
        guard epochsDone < configuration.epochs else {
            say("nothing to do: \(epochsDone) of \(configuration.epochs) epochs already done")
            return
        }
        var runningD = discriminatorLosses.last ?? 0, runningG = generatorLosses.last ?? 0
        for epoch in (epochsDone + 1)...configuration.epochs {
            // Noise depends on seed and epoch only, so a resumed run draws what an uninterrupted one would.
            let random = RandomGenerator(seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch))
            let loader = DataLoader(sampler.shard(data, epoch: epoch - 1), batchSize: localBatch, dropLast: true, prefetch: 2)
            let progress = ProgressBar(total: batches, label: "epoch \(epoch)/\(configuration.epochs)")
            var times: [Double] = []
            for (step, (images, _)) in loader.enumerated() {
                if step == batches { break }
                let real = images * 2 - 1
                let noise = sampler.rows(of: Tensor.randn([batchSize, latentSize], generator: random))
                let start = DispatchTime.now().uptimeNanoseconds
                var d: Double, g: Double? = nil
                switch configuration.loss {
                case .dcgan:
                    let losses = try dcganStep(real: real, noise: noise)
                    (d, g) = (losses.discriminator, losses.generator)
                case .wganGP:
                    let epsilon = sampler.rows(of: Tensor.rand([batchSize, 1, 1, 1], generator: random))
                    d = try criticStep(real: real, noise: noise, epsilon: epsilon)
                    if (step + 1) % criticSteps == 0 {
                        let noise = sampler.rows(of: Tensor.randn([batchSize, latentSize], generator: random))
                        g = try wganGeneratorStep(noise: noise)
                    }
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                if let group {
                    // The mean of the ranks' mean losses is the loss of the global batch.
                    let means = group.allReduce(Tensor(shape: [2], scalars: [d, g ?? 0]), .average).doubles
                    d = means[0]
                    g = g.map { _ in means[1] }
                }
                record(discriminator: d, generator: g)
                try afterBatch()
                runningD = movingMean(runningD, discriminatorLosses.last!, first: discriminatorLosses.count == 1)
                if let g = generatorLosses.last { runningG = movingMean(runningG, g, first: generatorLosses.count == 1) }
                if isMain { progress.advance(metrics: ["D": runningD, "G": runningG]) }
            }
            epochsDone = epoch
            msPerBatch.append(times.sorted()[times.count / 2])
            say(String(format: "epoch %d: D %.4f  G %.4f  (%.1f s, %.1f ms per batch, median)", epoch, runningD, runningG,
                       progress.elapsed, msPerBatch.last!))
            if isMain { try writeOutputs(epoch: epoch) }
        }
        say("wrote samples.png, samples-epoch-N.png, losses.png and checkpoints to \(configuration.outputDirectory)")
    }

    /// Wraps both networks for data-parallel training over `group` (once), after checking that every rank resumed
    /// after the same epoch.
    private func startDataParallel(on group: ProcessGroup) throws {
        guard parallelG == nil else { return }
        try requireRanksResumedAlike(epochsDone, group: group, unit: "epoch",
                                     directory: "\(configuration.outputDirectory)/\(File.checkpoints)")
        parallelG = DistributedDataParallel(generator, group: group)
        parallelD = DistributedDataParallel(discriminator, group: group)
    }

    /// Checks that every rank holds the same weights of both networks (see
    /// `DistributedDataParallel.checkReplicasMatch()`); does nothing in one process or before training started.
    func checkReplicasMatch() throws {
        try parallelG?.checkReplicasMatch()
        try parallelD?.checkReplicasMatch()
    }

    private func record(discriminator d: Double?, generator g: Double?) {
        if let d { discriminatorLosses.append(d) }
        if let g { generatorLosses.append(g) }
    }

    private func movingMean(_ mean: Double, _ value: Double, first: Bool) -> Double {
        first ? value : 0.98 * mean + 0.02 * value
    }

    /// `count` generated images in [−1, 1], `[count, 1, 28, 28]`, from the generator in eval mode.
    func generate(noise: Tensor) -> Tensor {
        generator.eval()
        defer { generator.train() }
        return Graph.noGrad { generator(Variable(noise)).value }
    }

    // MARK: Outputs and checkpoints

    private var directory: URL { URL(fileURLWithPath: configuration.outputDirectory) }

    /// What the output directory holds besides sample grids and the loss plot.
    enum File {
        /// The directory of checkpoint sets, one `step-…` set per epoch (the newest three are kept).
        static let checkpoints = "checkpoints"
        /// A copy of the newest set's generator, for `--sample` and for users (PyTorch's names).
        static let generator = "generator.safetensors"
    }

    /// The sets in `<output-dir>/checkpoints`.
    func checkpointDirectory() throws -> CheckpointDirectory {
        try CheckpointDirectory(directory.appendingPathComponent(File.checkpoints, isDirectory: true), keepLast: 3)
    }

    /// Everything a set holds: the generator (`model.safetensors`) and its Adam (`optimizer.safetensors`), the
    /// discriminator and its Adam, the fixed noise and loss history (`training-state.safetensors`), the global
    /// generator. The noise of each epoch and the loader's order follow from the seed and the epoch alone.
    var trainingState: TrainingState {
        TrainingState(model: generator, optimizer: optimizerG, parts: [
            "discriminator": .model(discriminator),
            "optimizer-discriminator": .optimizer(optimizerD),
            "training-state": CheckpointPart(save: { [unowned self] in
                ["fixed_noise": fixedNoise,
                 "discriminator_losses": Tensor(shape: [discriminatorLosses.count], scalars: discriminatorLosses),
                 "generator_losses": Tensor(shape: [generatorLosses.count], scalars: generatorLosses)]
            }, load: { [unowned self] state in
                guard let noise = state["fixed_noise"], noise.shape == fixedNoise.shape,
                      let d = state["discriminator_losses"], d.rank == 1, let g = state["generator_losses"], g.rank == 1,
                      state.count == 3 else {
                    throw GANStateError(expected: "fixed_noise \(fixedNoise.shape), discriminator_losses and generator_losses")
                }
                fixedNoise = noise.to(fixedNoise.dtype)
                discriminatorLosses = d.doubles
                generatorLosses = g.doubles
            }),
        ])
    }

    private func writeOutputs(epoch: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let samples = generate(noise: fixedNoise)
        for name in ["samples-epoch-\(epoch).png", "samples.png"] {
            try ImageGrid.save(samples, to: directory.appendingPathComponent(name), columns: Self.gridSize, range: -1...1)
        }
        try plotLosses().save(to: directory.appendingPathComponent("losses.png"))
        try saveCheckpoint()
    }

    /// Both losses against the batch index, raw and as a 100-point moving average.
    func plotLosses() -> Plot {
        let title = configuration.loss == .dcgan ? "DCGAN losses" : "WGAN-GP losses"
        var plot = Plot(title: title, xLabel: "batch", yLabel: configuration.loss == .dcgan ? "BCE" : "loss", legend: .summary)
        let criticSteps = Double(configuration.loss.criticSteps)
        let xG = generatorLosses.indices.map { Double($0 + 1) * criticSteps }
        plot.add("D (mean of 100 batches)", y: movingAverage(discriminatorLosses, window: 100))
        plot.add("G (mean of 100 batches)", x: xG, y: movingAverage(generatorLosses, window: max(100 / configuration.loss.criticSteps, 1)))
        return plot
    }

    private var metadata: [String: String] {
        ["epoch": "\(epochsDone)", "loss": configuration.loss.rawValue, "seed": "\(configuration.seed)", "model": "generator"]
    }

    /// Saves the epoch's checkpoint set (see ``trainingState``) as step ``epochsDone`` (a GAN's "step" is ambiguous:
    /// WGAN-GP makes five critic updates per generator update), then copies
    /// its generator to `generator.safetensors`. Both are atomic: a kill at any instant leaves the previous set
    /// (and the previous generator file) or the new one, whole.
    @discardableResult
    func saveCheckpoint() throws -> CheckpointSet {
        let set = try checkpointDirectory().save(trainingState, step: epochsDone, metadata: metadata)
        let export = directory.appendingPathComponent(File.generator)
        try AtomicFile.write(SafeTensors.encode(stored: generator.storedStateDict(), metadata: metadata), to: export)
        AtomicFile.removeLeftovers(of: export)
        return set
    }

    /// Restores networks, optimisers, fixed noise, loss history and epoch count from the newest complete set in
    /// `<output-dir>/checkpoints`, and returns it; returns nil, changing nothing, when there is none.
    ///
    /// The command line's learning rates win over the set's.
    /// - Throws: ``CheckpointError`` when the set is from another `--loss` or does not fit; nothing changes then.
    @discardableResult
    func resume() throws -> CheckpointSet? {
        let checkpoints = try checkpointDirectory()
        guard let set = checkpoints.latestComplete() else { return nil }
        guard set.metadata["loss"] == configuration.loss.rawValue else {
            throw CheckpointError.mismatch(path: set.url.path, reason: "written by a --loss \(set.metadata["loss"] ?? "?") run, not --loss \(configuration.loss.rawValue)")
        }
        guard let epoch = set.metadata["epoch"].flatMap(Int.init), epoch >= 1 else {
            throw CheckpointError.mismatch(path: set.url.path, reason: "its metadata names no epoch")
        }
        try checkpoints.restore(set, into: trainingState)
        optimizerG.learningRate = configuration.learningRateG
        optimizerD.learningRate = configuration.learningRateD
        epochsDone = epoch
        return set
    }
}

/// The training state of a set does not hold what a GAN run saves.
struct GANStateError: Error, CustomStringConvertible {
    let expected: String
    var description: String { "training-state.safetensors: expected \(expected)" }
}
