import Data
import Foundation

// The swift snippets of the `///` comments of Data as the comments show them (scripts/sync-doc-snippets.py copies
// them here, DocSnippetSyncTests fails when they differ), one function per snippet, grouped by source file. A
// function's parameters are what its snippet assumes; compiled, not run (most read data sets or write files).

// MARK: Sources/Data/Core

func dataLoaderComment(train: LabeledTensorDataset, trainStep: (Tensor, [Int]) -> Void) {
    // snippet: Sources/Data/Core/DataLoader.swift#1
    let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0, dropLast: true)
    for _ in 0..<5 {
        for (images, labels) in loader {   // images: Tensor [64, 1, 28, 28], labels: [Int]
            trainStep(images, labels)
        }
    }
    // end snippet
}

func datasetComment() {
    // snippet: Sources/Data/Core/Dataset.swift#1
    struct Squares: Dataset {
        var count: Int { 100 }
        func element(at index: Int) -> (Tensor, Int) { (Tensor([Float(index)]), index * index) }
    }
    // end snippet
    _ = Squares()
}

func datasetMapComment(mnist: MNIST, normalize: @escaping (Tensor) -> Tensor) {
    // snippet: Sources/Data/Core/Dataset.swift#2
    let normalised = mnist.map { (image, label) in (normalize(image), label) }
    // end snippet
    _ = normalised
}

/// `group` stands for Distributed's `ProcessGroup`, which Data does not depend on.
func distributedSamplerComment(train: LabeledTensorDataset, group: (worldSize: Int, rank: Int), epochs: Int,
                               trainStep: (Tensor, [Int]) -> Void) {
    // snippet: Sources/Data/Core/DistributedSampler.swift#1
    let sampler = DistributedSampler(count: train.count, worldSize: group.worldSize, rank: group.rank, seed: 0)
    for epoch in 0..<epochs {
        let loader = DataLoader(sampler.shard(train, epoch: epoch), batchSize: 64 / group.worldSize)
        for (images, labels) in loader { trainStep(images, labels) }
    }
    // end snippet
}

func distributedSamplerRowsComment(sampler: DistributedSampler, globalBatch: Int, random: RandomGenerator) {
    // snippet: Sources/Data/Core/DistributedSampler.swift#2
    let noise = sampler.rows(of: Tensor.randn([globalBatch, 100], generator: random))   // [globalBatch / worldSize, 100]
    // end snippet
    _ = noise
}

func weightedRandomSamplerComment(train: LabeledTensorDataset, labels: [Int], classCounts: [Int]) {
    // snippet: Sources/Data/Core/Sampler.swift#1
    let sampler = WeightedRandomSampler(weights: labels.map { 1 / Double(classCounts[$0]) }, sampleCount: train.count)
    let loader = DataLoader(train, batchSize: 64, sampler: sampler)
    // end snippet
    _ = loader
}

// MARK: Sources/Data/Datasets

func cifar10Comment(dataDir: String) throws {
    // snippet: Sources/Data/Datasets/CIFAR10.swift#1
    let train = try CIFAR10(directory: dataDir, split: .train)
    let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
    let loader = DataLoader(train.augmentingInputs(augment, seed: 0), batchSize: 128, shuffle: true, seed: 0)
    // end snippet
    _ = loader
}

func fashionMNISTComment() throws {
    // snippet: Sources/Data/Datasets/FashionMNIST.swift#1
    let test = try FashionMNIST(split: .test)
    let (image, label) = test[0]
    print(FashionMNIST.classNames[label])   // "Ankle boot"
    // end snippet
    _ = image
}

func mnistComment() throws {
    // snippet: Sources/Data/Datasets/MNIST.swift#1
    let train = try MNIST(directory: "/data/mnist", split: .train)
    let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0)
    // end snippet
    _ = loader
}

// MARK: Sources/Data/Images

func heatMapComment() throws {
    // snippet: Sources/Data/Images/HeatMap.swift#1
    let map = HeatMap(values: [[0.9, 0.1], [0.2, 0.8]], rowNames: ["cat", "dog"], columnNames: ["cat", "dog"])
    try map.save(to: URL(fileURLWithPath: "confusion.png"))
    // end snippet
}

func pngImageComment() throws {
    // snippet: Sources/Data/Images/PNGImage.swift#1
    let gradient = PNGImage(width: 256, height: 1, colorType: .grayscale, pixels: (0...255).map(UInt8.init))
    try gradient.save(to: URL(fileURLWithPath: "/tmp/gradient.png"))
    // end snippet
}

func plotComment(lossPerStep: [Double], epochEndSteps: [Double], accuracyPerEpoch: [Double], xs: [Double],
                 ys: [Double], grid: [Double], predictions: [Double], errors: [Double]) throws {
    // snippet: Sources/Data/Images/Plot.swift#1
    var plot = Plot(title: "Fashion-MNIST MLP", xLabel: "step", legend: .summary)
    plot.add("train loss", y: lossPerStep)
    plot.add("test accuracy", x: epochEndSteps, y: accuracyPerEpoch)
    try plot.save(to: URL(fileURLWithPath: "training.png"))

    var fit = Plot(title: "data and fit", xLabel: "x", yLabel: "y")
    fit.scatter("data", x: xs, y: ys)
    fit.add("fit", x: grid, y: predictions)

    var residuals = Plot(title: "residuals")
    residuals.histogram("residual", values: errors, bins: 30)
    // end snippet
    _ = (fit, residuals)
}

// MARK: Sources/Data/Readers

func cifarBinaryFileComment() throws {
    // snippet: Sources/Data/Readers/CIFARBinaryFile.swift#1
    let batch = try CIFARBinaryFile(contentsOf: "cifar-10-batches-bin/test_batch.bin")
    print(batch.count, batch.labels[0])   // 10000 3
    // end snippet
}

func idxComment() throws {
    // snippet: Sources/Data/Readers/IDX.swift#1
    let images = try IDXFile(contentsOf: "train-images-idx3-ubyte.gz", expectedDimensionCount: 3, role: "images")
    print(images.dimensions)   // [60000, 28, 28]
    // end snippet
}

// MARK: Sources/Data/Text

func byteLevelBPETokenizerComment(corpus: TextCorpus) throws {
    // snippet: Sources/Data/Text/ByteLevelBPETokenizer.swift#1
    let bpe = ByteLevelBPETokenizer(training: corpus.text, vocabularySize: 512)
    let ids = bpe.encode("naïve café")        // bytes and merges, each id < 512
    print(bpe.decode(ids))                     // "naïve café"
    try bpe.save(to: URL(fileURLWithPath: "run/tokenizer.json"))
    // end snippet
}

func characterTokenizerComment() throws {
    // snippet: Sources/Data/Text/CharacterTokenizer.swift#1
    let tokenizer = CharacterTokenizer(training: "hello")   // vocabulary: e h l o
    print(try tokenizer.encode("hole"))                     // [1, 3, 2, 0]
    print(tokenizer.decode([1, 0, 2, 2, 3]))                // "hello"
    // end snippet
}

func languageModelWindowsComment(train: [Int], trainStep: (TensorIndices, TensorIndices) -> Void) throws {
    // snippet: Sources/Data/Text/LanguageModelWindows.swift#1
    let windows = try LanguageModelWindows(tokens: train, contextLength: 64, source: "fortunes (train)")
    let loader = DataLoader(windows, batchSize: 12, shuffle: true, seed: 1, dropLast: true)
    for (inputs, targets) in loader {      // TensorIndices [12, 64] each
        trainStep(inputs, targets)         // targets[b, t] == the token after inputs[b, t]
    }
    // end snippet
}

func textCorpusComment() throws {
    // snippet: Sources/Data/Text/TextCorpus.swift#1
    let corpus = try TextCorpus(contentsOf: "input.txt")          // any UTF-8 file
    let fortunes = try TextCorpus.fortunes()                       // Debian's `fortunes` package
    let tokenizer = CharacterTokenizer(training: fortunes.text)
    let (train, validation) = trainValidationSplit(try tokenizer.encode(fortunes.text))
    // end snippet
    _ = (corpus, train, validation)
}

// MARK: Sources/Data/Transforms

func augmentedDatasetComment(dir: String) throws {
    // snippet: Sources/Data/Transforms/AugmentedDataset.swift#1
    let parts = randomSplit(try CIFAR10(directory: dir, split: .train), [45000, 5000], seed: 0)
    let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
    let train = parts[0].augmentingInputs(augment, seed: 1)   // augment after splitting, so validation is not
    let loader = DataLoader(train, batchSize: 128, shuffle: true, seed: 0, prefetch: 2)
    // end snippet
    _ = loader
}

func augmentingInputsComment(cifar: CIFAR10) {
    // snippet: Sources/Data/Transforms/AugmentedDataset.swift#2
    let train = cifar.augmentingInputs(.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip()), seed: 0)
    // end snippet
    _ = train
}

func imageTransformsComment() throws {
    // snippet: Sources/Data/Transforms/ImageTransforms.swift#1
    // LeNet-5 expects 32×32 inputs; Fashion-MNIST images are 28×28.
    let fashion = try FashionMNIST(split: .train).transformingInputs(.pad(to: 32))   // [1, 32, 32]
    // end snippet
    _ = fashion
}

func randomSplitComment(train: LabeledTensorDataset) {
    // snippet: Sources/Data/Transforms/RandomSplit.swift#1
    let parts = randomSplit(train, [50000, 10000], seed: 42)
    let (trainPart, validation) = (parts[0], parts[1])
    // end snippet
    _ = (trainPart, validation)
}

func randomTransformComment(x: Tensor) {
    // snippet: Sources/Data/Transforms/RandomTransform.swift#1
    let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
    let image = augment(x, using: RandomGenerator(seed: 1))
    // end snippet
    _ = image
}

func transformComment(rawImages: LabeledTensorDataset) {
    // snippet: Sources/Data/Transforms/Transform.swift#1
    let prepare = Transform.scale(from: 0...255).then(.normalize(mean: [0.5], std: [0.5]))
    let train = rawImages.transformingInputs(prepare)   // values in [-1, 1]
    // end snippet
    _ = train
}
