import Foundation
import Testing
@testable import Data

@Suite struct DataLoaderTests {
    /// Example `i` is (a `[2]` tensor `[i, -i]`, label `i`).
    let pairs = ArrayDataset((0..<10).map { (Tensor(shape: [2], scalars: [Float($0), -Float($0)]), $0) })

    func labels<D>(_ loader: DataLoader<D, (Tensor, [Int])>) -> [[Int]] { loader.map { $0.1 } }

    @Test func batchesInOrderWithShortLastBatch() {
        let loader = DataLoader(pairs, batchSize: 4)
        #expect(loader.count == 3)
        let batches = Array(loader)
        #expect(batches.count == 3)
        #expect(batches.map { $0.1 } == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(batches[0].0.shape == [4, 2] && batches[2].0.shape == [2, 2])
        #expect(batches[2].0.floats == [8, -8, 9, -9])
    }

    @Test func dropLast() {
        let loader = DataLoader(pairs, batchSize: 4, dropLast: true)
        #expect(loader.count == 2)
        #expect(labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(DataLoader(pairs, batchSize: 5, dropLast: true).count == 2)
        #expect(DataLoader(pairs, batchSize: 11, dropLast: true).count == 0)
        #expect(Array(DataLoader(pairs, batchSize: 11, dropLast: true)).isEmpty)
    }

    @Test func seededShuffleIsDeterministicAndChangesPerEpoch() {
        let a = DataLoader(pairs, batchSize: 3, shuffle: true, seed: 7)
        let b = DataLoader(pairs, batchSize: 3, shuffle: true, seed: 7)
        let a0 = labels(a), a1 = labels(a), b0 = labels(b), b1 = labels(b)
        #expect(a0 == b0 && a1 == b1)
        #expect(a0 != a1, "epochs 0 and 1 should visit examples in different orders")
        for epoch in [a0, a1] { #expect(epoch.flatMap { $0 }.sorted() == Array(0..<10)) }
        #expect(a.epoch == 2)
        // Epoch k depends only on seed and k: resuming at epoch 1 sees what the first run saw.
        let resumed = DataLoader(pairs, batchSize: 3, shuffle: true, seed: 7)
        resumed.epoch = 1
        #expect(labels(resumed) == a1)
        #expect(labels(DataLoader(pairs, batchSize: 3, shuffle: true, seed: 8)) != a0)
        // Tensors travel with their labels.
        for (x, y) in DataLoader(pairs, batchSize: 3, shuffle: true, seed: 7) {
            #expect(x.floats == y.flatMap { [Float($0), -Float($0)] })
        }
    }

    @Test func epochOrdersAreDistinctAcrossManyEpochs() {
        let loader = DataLoader(ArrayDataset(Array(0..<50)), batchSize: 50, shuffle: true, seed: 1, collate: { $0 })
        let orders = (0..<20).map { loader.order(epoch: $0) }
        #expect(Set(orders).count == 20)
    }

    @Test(arguments: [1, 2, 5])
    func prefetchGivesIdenticalBatches(depth: Int) {
        let data = ArrayDataset((0..<37).map { (Tensor.full([3], Double($0)), $0) })
        let plain = DataLoader(data, batchSize: 5, shuffle: true, seed: 3)
        let ahead = DataLoader(data, batchSize: 5, shuffle: true, seed: 3, prefetch: depth)
        for _ in 0..<3 {
            let p = Array(plain), q = Array(ahead)
            #expect(p.count == q.count && p.count == 8)
            for (x, y) in zip(p, q) { #expect(x.0 == y.0 && x.1 == y.1) }
        }
    }

    @Test func abandonedPrefetchEpochDoesNotHang() {
        let data = ArrayDataset((0..<100).map { Tensor.full([1], Double($0)) })
        let loader = DataLoader(data, batchSize: 2, prefetch: 2)
        for _ in 0..<5 {
            var seen = 0
            for _ in loader { seen += 1; if seen == 3 { break } }
            #expect(seen == 3)
        }
        #expect(Array(loader).count == 50)
    }

    @Test func collatableScalarsAndCustomCollate() {
        let doubles = DataLoader(ArrayDataset([1.0, 2, 3]), batchSize: 2)
        let batches = Array(doubles)
        #expect(batches[0].shape == [2] && batches[0].dtype == .float64 && batches[1].doubles == [3])
        let sums = DataLoader(ArrayDataset(Array(1...6)), batchSize: 3, collate: { $0.reduce(0, +) })
        #expect(Array(sums) == [6, 15])
    }

    @Test func labeledTensorDataset() {
        let inputs = Tensor(shape: [3, 2, 2], scalars: (0..<12).map(Float.init))
        let ds = LabeledTensorDataset(inputs: inputs, labels: [2, 0, 1])
        let (x, y) = ds[1]
        #expect(x.shape == [2, 2] && x.floats == [4, 5, 6, 7] && y == 0)
        let (xb, yb) = Array(DataLoader(ds, batchSize: 3))[0]
        #expect(xb == inputs && yb == [2, 0, 1])
    }
}
