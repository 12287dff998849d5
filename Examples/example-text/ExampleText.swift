import ArgumentParser
import Data
import ExampleSupport
import Foundation
import ONNX
import NN
import Optim
import Training

/// The tokenizers `--tokenizer` chooses between.
enum TokenizerChoice: String, ExpressibleByArgument, CaseIterable {
    case chars, bpe
}

/// The models `--model` chooses between.
enum TextModel: String, ExpressibleByArgument, CaseIterable {
    case gpt, lstm

    /// Issue 18's hyper-parameters: W7 for the GPT, W8 for the LSTM (Adam without weight decay, clipping at 5).
    var defaults: TrainingConfiguration {
        switch self {
        case .gpt: return TrainingConfiguration()
        case .lstm:
            return TrainingConfiguration(batchSize: 50, contextLength: 50, learningRate: 2e-3, weightDecay: 0, clipNorm: 5,
                                         betas: (0.9, 0.999))
        }
    }

    /// A fresh model of this kind for `vocabularySize` tokens.
    func make(vocabularySize: Int, contextLength: Int) -> LanguageModel {
        switch self {
        case .gpt: return GPT(GPTConfiguration(vocabularySize: vocabularySize, contextLength: contextLength))
        case .lstm: return CharLSTM(vocabularySize: vocabularySize)
        }
    }
}

@main
struct ExampleText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-text",
        abstract: "Train a small GPT (workload W7) or an LSTM (W8) on real text and let it write.",
        discussion: """
        The default corpus is Debian's fortunes (\(TextCorpus.fortunesDirectory); `sudo apt-get install fortunes` \
        or scripts/setup.sh --with-data); --text FILE takes any UTF-8 file instead. The token sequence is split \
        90/10 (the first 90% for training, the rest for validation). The GPT: 4 layers, 4 heads, width 128, \
        context 64, batch 12, no dropout, AdamW (lr 1e-3, betas 0.9/0.99, weight decay 0.1 on matrices) with \
        100 warm-up steps and a cosine to lr/10, gradient clipping at 1.0, tied output head, 2,000 steps. \
        --model lstm: embedding 128, 2 LSTM layers of 128, sequences of 50, batch 50, Adam lr 2e-3 (same schedule), \
        clipping at 5.0. It writes model.safetensors (PyTorch's names), tokenizer.json and losses.png to --output-dir and \
        prints samples; at every validation it saves a checkpoint set (model, AdamW, schedule, RNG, losses) in \
        <output-dir>/checkpoints, and --resume continues from the newest complete one. --generate N --checkpoint PATH \
        writes N tokens from a saved model with the key/value cache. --distributed trains data-parallel under mpirun \
        (`mpirun -n 2 example-text --distributed --threads 1`): --batch-size stays the global batch, split over the \
        ranks; rank 0 evaluates, prints and saves.
        """
    )

    @Option(help: "The model: \(TextModel.allCases.map(\.rawValue).joined(separator: ", ")).") var model = TextModel.gpt
    @Option(help: "A UTF-8 text file to train on (default: the fortunes corpus).") var text: String?
    @Option(help: "chars (one token per character) or bpe (byte-level BPE trained on the corpus).")
    var tokenizer = TokenizerChoice.chars
    @Option(name: .customLong("vocab-size"), help: "Vocabulary size of the BPE tokenizer (256 bytes + merges).")
    var vocabSize = 512
    @Option(help: "Training steps.") var steps = 2000
    @Option(name: .customLong("batch-size"), help: "Windows per batch (default 12 for gpt, 50 for lstm).") var batchSize: Int?
    @Option(help: "Tokens per window: the GPT's context, the LSTM's sequence (default 64 for gpt, 50 for lstm).") var context: Int?
    @Option(name: .customLong("lr"), help: "Peak learning rate (default 1e-3 for gpt, 2e-3 for lstm).") var learningRate: Double?
    @Option(help: "Linear warm-up steps before the cosine decay.") var warmup = 100
    @Option(name: .customLong("eval-every"), help: "Steps between validation losses.") var evalEvery = 200
    @Option(help: "Seed for initialisation, batches and sampling.") var seed: UInt64 = 0
    @Option(help: "Threads for matrix products and large elementwise loops.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(name: .customLong("output-dir"), help: "Where the checkpoint, tokenizer and loss plot go.") var outputDirectory = "out/text"
    @Flag(help: "Continue from the newest complete checkpoint set in <output-dir>/checkpoints (one is saved at every validation).")
    var resume = false
    @Option(name: .customLong("sample-tokens"), help: "Tokens of sample text printed after training.") var sampleTokens = 400
    @Option(help: "Generate N tokens from --checkpoint instead of training.") var generate: Int?
    @Option(help: "A model.safetensors written by training; tokenizer.json must be beside it.") var checkpoint: String?
    @OptionGroup var onnx: ONNXExportOptions
    @OptionGroup var parallel: DistributedOptions
    @Option(help: "Text the samples continue.") var prompt = "\n"
    @Option(help: "Divides the logits before sampling (lower: safer, duller).") var temperature = 0.8
    @Option(name: .customLong("top-k"), help: "Sample among the K likeliest tokens only.") var topK: Int?
    @Option(name: .customLong("top-p"), help: "Sample among the likeliest tokens whose probabilities sum to P (nucleus).") var topP: Double?

    func validate() throws {
        for (name, value) in [("--steps", steps), ("--batch-size", batchSize ?? 1), ("--context", context ?? 1),
                              ("--eval-every", evalEvery), ("--threads", threads)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        guard vocabSize >= 256 else { throw ValidationError("--vocab-size must be at least 256 (the byte tokens), got \(vocabSize)") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--lr must be a positive number, got \(learningRate)")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or positive, got \(warmup)") }
        guard sampleTokens >= 0 else { throw ValidationError("--sample-tokens must be 0 or positive, got \(sampleTokens)") }
        if let generate, generate <= 0 { throw ValidationError("--generate must be positive, got \(generate)") }
        guard temperature > 0 && temperature.isFinite else { throw ValidationError("--temperature must be a positive number, got \(temperature)") }
        if let topK, topK <= 0 { throw ValidationError("--top-k must be positive, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
        if generate != nil && parallel.distributed {
            throw ValidationError("--generate writes from a saved model without training; run it without --distributed and mpirun")
        }
    }

    /// The model's defaults with the options given.
    var trainingConfiguration: TrainingConfiguration {
        var c = model.defaults
        c.steps = steps
        c.batchSize = batchSize ?? c.batchSize
        c.contextLength = context ?? c.contextLength
        c.learningRate = learningRate ?? c.learningRate
        c.warmupSteps = warmup
        c.evalEvery = evalEvery
        c.seed = seed
        return c
    }

    func run() throws {
        warnIfDebugBuild(example: "example-text")
        BLAS.threadCount = threads
        if let generate {
            generateFromCheckpoint(count: generate)
            return
        }
        var configuration = trainingConfiguration
        configuration.group = parallel.start(globalBatchSize: configuration.batchSize)
        let isMain = configuration.group?.isMain ?? true
        requireWritableDirectory(outputDirectory)
        let corpus = loadCorpus()
        let tokenizer = makeTokenizer(for: corpus)
        let tokens: [Int]
        do { tokens = try tokenizer.encode(corpus.text) } catch { exitWithError("\(corpus.path): \(error)") }
        let (trainTokens, validationTokens) = trainValidationSplit(tokens)
        let (context, batchSize) = (configuration.contextLength, configuration.batchSize)
        let train: LanguageModelWindows
        let validation: [(TensorIndices, TensorIndices)]
        do {
            train = try LanguageModelWindows(tokens: trainTokens, contextLength: context, source: "\(corpus.path) (training 90%)")
            validation = try validationWindows(validationTokens, contextLength: context, count: configuration.evalWindows,
                                               source: "\(corpus.path) (validation 10%)")
        } catch { exitWithError(error.description) }
        guard train.count >= batchSize else {
            exitWithError("\(corpus.path): the training text gives \(train.count) windows of \(context) tokens, fewer than --batch-size \(batchSize)")
        }
        print("\(corpus.path): \(corpus.text.unicodeScalars.count) characters, \(tokens.count) tokens "
              + "(\(self.tokenizer.rawValue), vocabulary \(tokenizer.vocabularySize)); \(trainTokens.count) for training, "
              + "\(validationTokens.count) for validation (\(validation.count) windows evaluated)")
        print("Kernels: \(InstructionSet.summary); \(threads) thread(s)"
              + (configuration.group.map { "; \($0.worldSize) ranks, \(batchSize / $0.worldSize) windows each" } ?? ""))

        RandomGenerator.manualSeed(seed)
        let lm = model.make(vocabularySize: tokenizer.vocabularySize, contextLength: context)
        print("\(model.rawValue): \(lm.parameterCount) parameters; batch \(batchSize) × \(context) tokens, lr \(configuration.learningRate)")
        let trainer = LanguageModelTrainer(model: lm, configuration: configuration)
        let directory = URL(fileURLWithPath: outputDirectory)
        // What must agree for a set to continue this run: the model, its sizes, the data and the schedule.
        var runMetadata = lm.metadata
        runMetadata["text"] = corpus.path
        runMetadata["tokenizer"] = self.tokenizer.rawValue
        runMetadata["vocabulary"] = String(tokenizer.vocabularySize)
        for (key, value) in [("steps", configuration.steps), ("batch_size", batchSize), ("warmup", configuration.warmupSteps),
                             ("eval_every", configuration.evalEvery)] { runMetadata[key] = String(value) }
        runMetadata["lr"] = String(configuration.learningRate)
        runMetadata["seed"] = String(seed)
        let checkpoints: CheckpointDirectory
        do {
            checkpoints = try CheckpointDirectory(directory.appendingPathComponent("checkpoints", isDirectory: true), keepLast: 2)
        } catch { exitWithError("cannot use \(outputDirectory)/checkpoints: \(error)") }
        var firstStep = 1
        if resume {
            if let set = checkpoints.latestComplete() {
                if let differing = runMetadata.keys.sorted().first(where: { set.metadata[$0] != runMetadata[$0] }) {
                    exitWithError("cannot resume from \(set.url.path): it was saved with \(differing) = "
                                  + "\(set.metadata[differing] ?? "none"), this run has \(runMetadata[differing]!)")
                }
                do { try checkpoints.restore(set, into: trainer.trainingState) } catch {
                    exitWithError("cannot resume from \(set.url.path): \(error)")
                }
                firstStep = set.step + 1
                print("resumed from \(set.url.path) (step \(set.step) of \(configuration.steps))")
            } else {
                print("no complete checkpoint set in \(outputDirectory)/checkpoints; starting at step 1")
            }
        }
        do {
            try trainer.train(train, validation: validation, from: firstStep, checkpoints: checkpoints, metadata: runMetadata)
        } catch let error as NonFiniteError {
            exitWithError("training diverged: \(error). Try a lower --lr.")
        } catch let error as ResumeMismatchError {
            exitWithError("cannot resume: \(error)")
        } catch {
            exitWithError("could not save a checkpoint set in \(outputDirectory)/checkpoints: \(error)")
        }
        if firstStep <= configuration.steps { print(String(format: "%.0f tokens/s in training", trainer.tokensPerSecond)) }
        // Every rank holds the same model; rank 0 writes it, as it wrote the checkpoints.
        guard isMain else { return }

        let modelPath = directory.appendingPathComponent("model.safetensors")
        do {
            try lm.save(to: modelPath, metadata: lm.metadata)
            try tokenizer.save(to: directory.appendingPathComponent("tokenizer.json"))
            try trainer.plot(title: "example-text: \(model.rawValue), \(self.tokenizer.rawValue)").render()
                .save(to: directory.appendingPathComponent("losses.png"))
        } catch {
            exitWithError("could not write outputs to \(outputDirectory): \(error)")
        }
        print("wrote \(modelPath.path), tokenizer.json and losses.png")
        onnx.exportIfRequested(lm, input: ONNXInput(name: "tokens", shape: [1, context], elementType: .int64,
                                                    dynamicAxes: [0: "batch", 1: "time"]))
        if sampleTokens > 0 { printSample(lm, tokenizer: tokenizer, count: sampleTokens) }
    }

    /// The corpus of `--text`, or fortunes; a clear exit when it cannot be read.
    func loadCorpus() -> TextCorpus {
        do {
            return try text.map { try TextCorpus(contentsOf: $0) } ?? TextCorpus.fortunes()
        } catch let error as DataError {
            exitWithError(error.description)
        } catch {
            exitWithError("\(error)")
        }
    }

    /// The tokenizer `--tokenizer` asks for, built from the whole corpus.
    func makeTokenizer(for corpus: TextCorpus) -> any Tokenizer {
        switch tokenizer {
        case .chars: return CharacterTokenizer(training: corpus.text)
        case .bpe:
            let start = Date()
            let bpe = ByteLevelBPETokenizer(training: corpus.text, vocabularySize: vocabSize)
            print(String(format: "trained byte-level BPE: %d merges in %.1f s", bpe.merges.count, Date().timeIntervalSince(start)))
            return bpe
        }
    }

    /// Prints `count` tokens sampled after the prompt, with the rate.
    func printSample(_ lm: LanguageModel, tokenizer: any Tokenizer, count: Int) {
        let promptTokens: [Int]
        do { promptTokens = try tokenizer.encode(prompt) } catch { exitWithError("--prompt: \(error)") }
        let random = RandomGenerator(seed: seed &+ 0x5A3D)
        let sampler = TokenSampler(temperature: temperature, topK: topK, topP: topP)
        let start = Date()
        let tokens = lm.generate(after: promptTokens, count: count) { sampler.sample(logits: $0, generator: random) }
        let seconds = Date().timeIntervalSince(start)
        print("--- sample (temperature \(temperature)\(topK.map { ", top-k \($0)" } ?? "")\(topP.map { ", top-p \($0)" } ?? "")) ---")
        print(prompt + tokenizer.decode(tokens))
        print(String(format: "--- %d tokens in %.2f s: %.0f tokens/s ---", count, seconds, Double(count) / seconds))
    }

    /// Loads `--checkpoint` and the tokenizer beside it, then prints `count` generated tokens.
    func generateFromCheckpoint(count: Int) {
        let path = checkpoint ?? "\(outputDirectory)/model.safetensors"
        let tokenizerPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tokenizer.json").path
        let tokenizer: any Tokenizer
        do { tokenizer = try TokenizerFile.load(from: tokenizerPath) } catch {
            exitWithError("\(error.description)\n(train first with `swift run -c release example-text`, which writes it beside the model)")
        }
        let saved: (tensors: [String: Tensor], metadata: [String: String])
        do { saved = try SafeTensors.read(from: URL(fileURLWithPath: path)) } catch {
            exitWithError("cannot read checkpoint \(path): \(error)\n(train first with `swift run -c release example-text`, or pass --checkpoint)")
        }
        let lm: LanguageModel
        if let configuration = GPTConfiguration(metadata: saved.metadata) {
            lm = GPT(configuration)
        } else if let lstm = CharLSTM(metadata: saved.metadata) {
            lm = lstm
        } else {
            exitWithError("\(path): not an example-text checkpoint (its metadata lacks the model and its sizes)")
        }
        let vocabulary = Int(saved.metadata["vocab_size"] ?? "") ?? -1
        guard vocabulary == tokenizer.vocabularySize else {
            exitWithError("\(path) has a vocabulary of \(vocabulary), but \(tokenizerPath) has \(tokenizer.vocabularySize)")
        }
        do { _ = try lm.loadStateDict(saved.tensors) } catch { exitWithError("cannot load \(path): \(error)") }
        lm.eval()
        onnx.exportIfRequested(lm, input: ONNXInput(name: "tokens", shape: [1, 1], elementType: .int64, dynamicAxes: [0: "batch", 1: "time"]))
        printSample(lm, tokenizer: tokenizer, count: count)
    }
}
