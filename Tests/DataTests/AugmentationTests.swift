import Foundation
import Testing
@testable import Data

@Suite struct AugmentationTests {
    /// A `[channels, height, width]` float32 image whose every element is distinct: `c * 1000 + y * 32 + x + 1`.
    func image(channels: Int = 3, height: Int = 6, width: Int = 5) -> Tensor {
        var values = [Float]()
        for c in 0..<channels { for y in 0..<height { for x in 0..<width { values.append(Float(c * 1000 + y * 32 + x + 1)) } } }
        return Tensor(shape: [channels, height, width], scalars: values)
    }

    /// Crop of `x` padded by `padding` with `fill`, written element by element.
    func naiveCrop(_ x: Tensor, padding: Int, fill: Double, top: Int, left: Int, height: Int, width: Int) -> [Double] {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        var out = [Double]()
        for ch in 0..<c {
            for y in 0..<height {
                for xx in 0..<width {
                    let (sy, sx) = (top + y - padding, left + xx - padding)
                    out.append(sy >= 0 && sy < h && sx >= 0 && sx < w ? x[ch, sy, sx] : fill)
                }
            }
        }
        return out
    }

    @Test func cropAndPadMatchNaiveLoops() {
        let x = image()
        #expect(Transform.crop(top: 2, left: 1, height: 3, width: 4)(x).doubles
                == naiveCrop(x, padding: 0, fill: 0, top: 2, left: 1, height: 3, width: 4))
        let padded = Transform.pad(2, fill: -1)(x)
        #expect(padded.shape == [3, 10, 9])
        #expect(padded.doubles == naiveCrop(x, padding: 2, fill: -1, top: 0, left: 0, height: 10, width: 9))
    }

    @Test func centrePaddingTo32() {
        let x = image(channels: 1, height: 28, width: 28)
        let y = Transform.pad(to: 32)(x)
        #expect(y.shape == [1, 32, 32] && y.dtype == .float32)
        #expect(y.doubles == naiveCrop(x, padding: 2, fill: 0, top: 0, left: 0, height: 32, width: 32))
        // Odd margins: the extra row and column go below and to the right (torchvision's CenterCrop).
        let z = Transform.pad(toHeight: 4, width: 7, fill: 9)(Tensor(shape: [1, 1], scalars: [Float(5)]))
        #expect(z.shape == [4, 7])
        #expect(z[1, 3] == 5 && z.doubles.filter { $0 == 9 }.count == 27)
        #expect(Transform.pad(to: 6)(image(height: 6, width: 6)) == image(height: 6, width: 6))
    }

    @Test func padsFashionMNISTShapedDatasetForLeNet() {
        let ds = ArrayDataset([(image(channels: 1, height: 28, width: 28), 3)]).transformingInputs(.pad(to: 32))
        #expect(ds[0].0.shape == [1, 32, 32] && ds[0].1 == 3)
    }

    @Test func horizontalFlipReversesColumns() {
        let x = image()
        let f = Transform.horizontalFlip(x)
        #expect(f.shape == x.shape)
        for (c, y, col) in [(0, 0, 0), (1, 3, 2), (2, 5, 4)] { #expect(f[c, y, col] == x[c, y, 4 - col]) }
        #expect(Transform.horizontalFlip(f) == x)
        let always = RandomTransform.randomHorizontalFlip(probability: 1)(x, using: RandomGenerator(seed: 0))
        let never = RandomTransform.randomHorizontalFlip(probability: 0)(x, using: RandomGenerator(seed: 0))
        #expect(always == f && never == x)
    }

    @Test func randomCropOffsetsCoverTheRangeAndContentIsCorrect() {
        let x = image(channels: 2, height: 6, width: 5)
        let padding = 2, (h, w) = (6, 5)
        let crop = RandomTransform.randomCrop(height: h, width: w, padding: padding, fill: 0.5)
        // Every crop of the padded image, by offset; all distinct since the image's elements are.
        var offsetOf = [[Double]: [Int]]()
        for top in 0...(2 * padding) {
            for left in 0...(2 * padding) {
                offsetOf[naiveCrop(x, padding: padding, fill: 0.5, top: top, left: left, height: h, width: w)] = [top, left]
            }
        }
        #expect(offsetOf.count == 25)
        let g = RandomGenerator(seed: 7)
        var seen = Set<[Int]>()
        for _ in 0..<300 {
            let y = crop(x, using: g)
            #expect(y.shape == [2, 6, 5])
            guard let offset = offsetOf[y.doubles] else { Issue.record("output is no crop of the padded image"); return }
            seen.insert(offset)
        }
        #expect(seen.count == 25, "all 5×5 offsets should occur in 300 draws, saw \(seen.count)")
    }

    @Test func randomCropDrawsTopThenLeft() {
        let x = image()
        let g = RandomGenerator(seed: 3), reference = RandomGenerator(seed: 3)
        let y = RandomTransform.randomCrop(height: 4, width: 2, padding: 1)(x, using: g)
        let top = Int(reference.nextBelow(UInt64(8 - 4 + 1))), left = Int(reference.nextBelow(UInt64(7 - 2 + 1)))
        #expect(y.doubles == naiveCrop(x, padding: 1, fill: 0, top: top, left: left, height: 4, width: 2))
        #expect(g.next() == reference.next(), "exactly two numbers are drawn")
    }

    @Test func randomCropWithoutPaddingOfSameSizeIsIdentity() {
        let x = image()
        #expect(RandomTransform.randomCrop(height: 6, width: 5)(x, using: RandomGenerator(seed: 1)) == x)
    }

    @Test func flipProbabilityIsRespected() {
        let x = image(channels: 1, height: 1, width: 2)
        let g = RandomGenerator(seed: 11)
        for p in [0.5, 0.2] {
            let flip = RandomTransform.randomHorizontalFlip(probability: p)
            let n = 10_000
            let flips = (0..<n).filter { _ in flip(x, using: g) != x }.count
            let sd = (Double(n) * p * (1 - p)).squareRoot()
            #expect(Swift.abs(Double(flips) - Double(n) * p) < 5 * sd, "p = \(p): \(flips) flips in \(n)")
        }
    }

    @Test func sameSeedSameAugmentation() {
        let x = image()
        let augment = RandomTransform.randomCrop(size: 4, padding: 2).then(.randomHorizontalFlip())
        let a = (0..<20).map { _ in augment(x, using: RandomGenerator(seed: 5)) }
        #expect(Set(a.map(\.doubles)).count == 1)
        let g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let run1 = (0..<20).map { _ in augment(x, using: g1).doubles }
        let run2 = (0..<20).map { _ in augment(x, using: g2).doubles }
        #expect(run1 == run2)
        #expect(Set(run1).count > 5, "successive draws should differ")
    }

    @Test func composesWithPlainTransforms() {
        let x = Tensor(shape: [1, 2, 2], scalars: [Float(0), 255, 51, 102])
        let pipeline = Transform.scale().then(RandomTransform.randomHorizontalFlip(probability: 1))
            .then(Transform.normalize(mean: [0.5], std: [0.5]))
        let y = pipeline(x, using: RandomGenerator(seed: 0))
        #expect(zip(y.floats, [Float(1), -1, -0.2, -0.6]).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
        let composed = RandomTransform(composing: [.randomHorizontalFlip(probability: 1), .randomHorizontalFlip(probability: 1)])
        #expect(composed(x, using: RandomGenerator(seed: 0)) == x)
        let owned = RandomTransform.randomHorizontalFlip(probability: 1).drawing(from: RandomGenerator(seed: 0))
        #expect(owned(x) == Transform.horizontalFlip(x))
    }

    /// A dataset of `n` distinct images, labelled by index.
    func imageDataset(_ n: Int) -> ArrayDataset<(Tensor, Int)> {
        ArrayDataset((0..<n).map { i in (image(channels: 1, height: 4, width: 4) + Double(i * 100), i) })
    }

    /// All of one epoch's inputs, by example index.
    func epochInputs<D: Dataset>(_ loader: DataLoader<D, (Tensor, [Int])>) -> [Int: [Double]] {
        var out = [Int: [Double]]()
        for (images, labels) in loader {
            for (row, label) in labels.enumerated() {
                out[label] = images.sliced(axis: 0, start: row, end: row + 1).doubles
            }
        }
        return out
    }

    @Test func augmentedDatasetVariesPerEpochAndRepeatsPerRun() {
        let augment = RandomTransform.randomCrop(size: 4, padding: 2).then(.randomHorizontalFlip())
        func run(prefetch: Int, shuffleSeed: UInt64) -> [[Int: [Double]]] {
            let train = imageDataset(24).augmentingInputs(augment, seed: 9)
            let loader = DataLoader(train, batchSize: 5, shuffle: true, seed: shuffleSeed, prefetch: prefetch)
            return (0..<3).map { _ in epochInputs(loader) }
        }
        let plain = run(prefetch: 0, shuffleSeed: 1)
        #expect(plain.allSatisfy { $0.count == 24 })
        #expect(plain[0] != plain[1] && plain[1] != plain[2], "every epoch gets new augmentations")
        #expect(run(prefetch: 0, shuffleSeed: 1) == plain, "the same seeds repeat the run")
        #expect(run(prefetch: 3, shuffleSeed: 1) == plain, "prefetching on another thread changes nothing")
        #expect(run(prefetch: 2, shuffleSeed: 2) == plain, "nor does the shuffling order")
        let other = imageDataset(24).augmentingInputs(augment, seed: 10)
        #expect(epochInputs(DataLoader(other, batchSize: 5)) != plain[0], "another seed, other augmentations")
    }

    @Test func augmentedDatasetResumesAtAnEpoch() {
        let augment = RandomTransform.randomCrop(size: 4, padding: 2).then(.randomHorizontalFlip())
        let full = imageDataset(6).augmentingInputs(augment, seed: 4)
        let loader = DataLoader(full, batchSize: 4)
        let epochs = (0..<3).map { _ in epochInputs(loader) }
        #expect((0..<6).allSatisfy { full.readCount(of: $0) == 3 })

        let resumed = imageDataset(6).augmentingInputs(augment, seed: 4)
        resumed.resume(atEpoch: 2)
        #expect(epochInputs(DataLoader(resumed, batchSize: 4)) == epochs[2])
        #expect(resumed.element(at: 5, read: 1).0.doubles == epochs[1][5])
        #expect(resumed.readCount(of: 5) == 3, "element(at:read:) does not count")
        // Labels pass through untouched.
        #expect((0..<6).map { resumed[$0].1 } == Array(0..<6))
    }

    @Test func augmentedIsSafeFromSeveralThreads() {
        let data = imageDataset(64).augmented(
            RandomTransform { (example: (Tensor, Int), g: RandomGenerator) in
                (RandomTransform.randomHorizontalFlip()(example.0, using: g), example.1)
            }, seed: 2)
        let reference = (0..<64).map { data.element(at: $0, read: 0).0.doubles }
        let lock = NSLock()
        nonisolated(unsafe) var got = [[Double]](repeating: [], count: 64)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let value = data[i].0.doubles
            lock.lock(); got[i] = value; lock.unlock()
        }
        #expect(got == reference)
        #expect((0..<64).allSatisfy { data.readCount(of: $0) == 1 })
    }
}
