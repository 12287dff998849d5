import Foundation
import Testing
@testable import Training
import NN
import Optim

/// A fresh, empty directory.
func temporaryDirectory(_ label: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small run with every kind of state: BatchNorm buffers (an integer count among them), Adam's moments and
/// step, a StepLR schedule, dropout masks and data drawn from two generators of their own.
final class Run {
    final class Net: Module {
        let fc1: Linear
        let bn = BatchNorm1d(8)
        let drop: Dropout
        let fc2: Linear
        init(weights: RandomGenerator, dropout: RandomGenerator) {
            fc1 = Linear(6, 8, generator: weights)
            drop = Dropout(p: 0.25, generator: dropout)
            fc2 = Linear(8, 2, generator: weights)
            super.init()
        }
        override func forward(_ x: Variable) -> Variable { fc2(drop(relu(bn(fc1(x))))) }
    }

    let data: RandomGenerator, dropout: RandomGenerator
    let model: Net
    let optimizer: Adam
    let schedule: StepLR
    var state: TrainingState {
        TrainingState(model: model, optimizer: optimizer, schedule: schedule, generators: ["data": data, "dropout": dropout])
    }

    init(seed: UInt64) {
        data = RandomGenerator(seed: seed)
        dropout = RandomGenerator(seed: seed + 1)
        model = Net(weights: RandomGenerator(seed: seed + 2), dropout: dropout)
        optimizer = Adam(model.parameters(), learningRate: 0.01)
        schedule = StepLR(optimizer, stepSize: 3, gamma: 0.5)
    }

    func train(steps: Int) {
        for _ in 0..<steps {
            let x = Variable(Tensor.randn([5, 6], generator: data))
            let target = Variable(Tensor.randn([5, 2], generator: data))
            optimizer.zeroGrad()
            mseLoss(model(x), target).backward()
            optimizer.step()
            schedule.step()
        }
    }

    /// Everything that must match bit for bit.
    var fingerprint: [String: Tensor] {
        var all = model.stateDict()
        for (k, v) in optimizer.stateDict() { all["optimizer." + k] = v }
        all["lr"] = Tensor(optimizer.learningRate)
        all["epoch"] = Tensor(Double(schedule.epoch))
        return all
    }
}

@Suite struct TrainingCheckpointTests {
    @Test func resumingContinuesExactlyAsAnUninterruptedRun() throws {
        let directory = try CheckpointDirectory(temporaryDirectory("resume"))
        let uninterrupted = Run(seed: 7)
        uninterrupted.train(steps: 4)
        let saved = try directory.save(uninterrupted.state, step: 4, metadata: ["note": "after four"])
        #expect(saved.step == 4 && directory.latestComplete() == saved)
        uninterrupted.train(steps: 5)

        // Another run, other weights and generators, resumed from the set.
        let resumed = Run(seed: 99)
        let found = try #require(try directory.restoreLatest(into: resumed.state))
        #expect(found.step == 4 && found.metadata == ["note": "after four"])
        #expect(resumed.model.bn.numBatchesTracked == 4)
        resumed.train(steps: 5)
        #expect(resumed.fingerprint == uninterrupted.fingerprint)
    }

    @Test func restoringIntoAnEmptyDirectoryChangesNothing() throws {
        let directory = try CheckpointDirectory(temporaryDirectory("empty"))
        let run = Run(seed: 1)
        let before = run.fingerprint
        #expect(try directory.restoreLatest(into: run.state) == nil)
        #expect(run.fingerprint == before && CheckpointDirectory.latestComplete(in: directory.url.appendingPathComponent("absent")) == nil)
    }

    @Test func partialAndDamagedSetsAreSkipped() throws {
        let url = temporaryDirectory("partial")
        let directory = try CheckpointDirectory(url, keepLast: 10)
        let run = Run(seed: 3)
        try directory.save(run.state, step: 10)
        run.train(steps: 1)
        let good = try directory.save(run.state, step: 20)
        let fm = FileManager.default

        // A newer set whose manifest was never written.
        let noManifest = url.appendingPathComponent(CheckpointDirectory.setName(30))
        try fm.copyItem(at: good.url, to: noManifest)
        try fm.removeItem(at: noManifest.appendingPathComponent("manifest.json"))
        // A newer set with a file cut short, and one with a flipped byte.
        let truncated = url.appendingPathComponent(CheckpointDirectory.setName(40))
        try fm.copyItem(at: good.url, to: truncated)
        let model = truncated.appendingPathComponent("model.safetensors")
        try Data(try Data(contentsOf: model).dropLast(3)).write(to: model)
        let flipped = url.appendingPathComponent(CheckpointDirectory.setName(50))
        try fm.copyItem(at: good.url, to: flipped)
        var bytes = [UInt8](try Data(contentsOf: flipped.appendingPathComponent("optimizer.safetensors")))
        bytes[bytes.count - 1] ^= 0x10
        try Data(bytes).write(to: flipped.appendingPathComponent("optimizer.safetensors"))
        // A manifest that names another step, one that is not JSON, and an unfinished staging directory.
        let renamed = url.appendingPathComponent(CheckpointDirectory.setName(60))
        try fm.copyItem(at: good.url, to: renamed)
        let garbage = url.appendingPathComponent(CheckpointDirectory.setName(70))
        try fm.copyItem(at: good.url, to: garbage)
        try Data("{\"format\": ".utf8).write(to: garbage.appendingPathComponent("manifest.json"))
        try fm.createDirectory(at: url.appendingPathComponent(".staging-80-x"), withIntermediateDirectories: false)

        for bad in [noManifest, truncated, flipped, renamed, garbage] {
            #expect(throws: CheckpointError.self) { try CheckpointDirectory.verify(bad) }
        }
        #expect(directory.latestComplete() == good)
        #expect(directory.completeSets().map(\.step) == [10, 20])
        let resumed = Run(seed: 4)
        #expect(try directory.restoreLatest(into: resumed.state)?.step == 20)
        #expect(resumed.fingerprint == run.fingerprint)
    }

    @Test func savesKeepTheNewestSetsAndClearLeftovers() throws {
        let url = temporaryDirectory("prune")
        let directory = try CheckpointDirectory(url, keepLast: 2)
        let run = Run(seed: 5)
        try FileManager.default.createDirectory(at: url.appendingPathComponent(".staging-3-left-by-a-kill"), withIntermediateDirectories: false)
        for step in 1...4 { try directory.save(run.state, step: step) }
        #expect(directory.completeSets().map(\.step) == [3, 4])
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
        #expect(names == [CheckpointDirectory.setName(3), CheckpointDirectory.setName(4)])
        // Saving a step again replaces its set.
        run.train(steps: 1)
        try directory.save(run.state, step: 4, metadata: ["again": "yes"])
        #expect(directory.latestComplete()?.metadata == ["again": "yes"] && directory.completeSets().count == 2)
    }

    @Test func aSetThatDoesNotFitChangesNothing() throws {
        let directory = try CheckpointDirectory(temporaryDirectory("mismatch"))
        let run = Run(seed: 8)
        run.train(steps: 2)
        let set = try directory.save(run.state, step: 2)

        let other = Run(seed: 9)
        let before = other.fingerprint
        // Other generators.
        var state = other.state
        state.generators = ["data": other.data]
        #expect(throws: CheckpointError.self) { try directory.restore(set, into: state) }
        // A model of another shape: the optimizer would have loaded, the model refuses; nothing changed.
        let wider = Run(seed: 9)
        wider.model.registerModule("extra", Linear(2, 2))
        #expect(throws: CheckpointError.self) { try directory.restore(set, into: wider.state) }
        // No schedule in this run.
        state = other.state
        state.schedule = nil
        #expect(throws: CheckpointError.self) { try directory.restore(set, into: state) }
        #expect(other.fingerprint == before)
    }

    @Test func schedulesSaveTheirProgress() throws {
        let p = Variable(Tensor.ones([2]), requiresGrad: true)
        let optimizer = SGD([p], learningRate: 1)
        let plateau = ReduceLROnPlateau(optimizer, patience: 1)
        for metric in [3.0, 2.0, 2.5, 2.6] { plateau.step(metric: metric) }
        let copy = ReduceLROnPlateau(SGD([p], learningRate: 1), patience: 1)
        try copy.loadStateDict(plateau.stateDict())
        #expect(copy.best == plateau.best && copy.badEpochs == plateau.badEpochs && copy.epoch == plateau.epoch
                && copy.cooldownRemaining == plateau.cooldownRemaining)
        #expect(throws: OptimizerStateError.missingKey("best")) { try copy.loadStateDict([:]) }
        let step = StepLR(optimizer, stepSize: 2)
        var bad = step.stateDict()
        bad["last_epoch"] = Tensor(1.5)
        #expect(throws: OptimizerStateError.self) { try step.loadStateDict(bad) }
        bad["last_epoch"] = Tensor(3.0)
        bad["extra"] = Tensor(0.0)
        #expect(throws: OptimizerStateError.unexpectedKey("extra")) { try step.loadStateDict(bad) }
    }
}

/// A run with a second network, its optimizer and a history beside the main ones (a GAN's shape).
private final class TwoNetworkRun {
    let main = Run(seed: 21)
    let second = Linear(3, 2, generator: RandomGenerator(seed: 22))
    let secondOptimizer: SGD
    var history: [Double] = []

    init() { secondOptimizer = SGD(second.parameters(), learningRate: 0.1, momentum: 0.9) }

    var state: TrainingState {
        var state = main.state
        state.parts = [
            "second": .model(second), "optimizer-second": .optimizer(secondOptimizer),
            "history": CheckpointPart(save: { ["losses": Tensor(shape: [self.history.count], scalars: self.history)] },
                                      load: { dictionary in
                                          guard let losses = dictionary["losses"] else { throw OptimizerStateError.missingKey("losses") }
                                          self.history = losses.doubles
                                      }),
        ]
        return state
    }

    func train(steps: Int) {
        main.train(steps: steps)
        for _ in 0..<steps {
            let x = Variable(Tensor.randn([4, 3], generator: main.data))
            secondOptimizer.zeroGrad()
            let loss = (second(x) * second(x)).mean()
            loss.backward()
            secondOptimizer.step()
            history.append(loss.value.item)
        }
    }

    var fingerprint: [String: Tensor] {
        var all = main.fingerprint
        for (k, v) in second.stateDict() { all["second." + k] = v }
        for (k, v) in secondOptimizer.stateDict() { all["optimizer-second." + k] = v }
        all["history"] = Tensor(shape: [history.count], scalars: history)
        return all
    }
}

@Suite struct CheckpointPartTests {
    @Test func partsAreSavedInTheirOwnFilesAndRestored() throws {
        let directory = try CheckpointDirectory(temporaryDirectory("parts"))
        let run = TwoNetworkRun()
        run.train(steps: 3)
        let set = try directory.save(run.state, step: 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: set.url.path).sorted()
        #expect(names == ["history.safetensors", "manifest.json", "model.safetensors", "optimizer-second.safetensors",
                          "optimizer.safetensors", "rng.safetensors", "schedule.safetensors", "second.safetensors"])
        let resumed = TwoNetworkRun()
        try directory.restore(set, into: resumed.state)
        #expect(resumed.fingerprint == run.fingerprint)
        run.train(steps: 2)
        resumed.train(steps: 2)
        #expect(resumed.fingerprint == run.fingerprint)
    }

    @Test func aPartThatDoesNotFitUndoesEveryLoadBeforeIt() throws {
        let directory = try CheckpointDirectory(temporaryDirectory("parts-mismatch"))
        let run = TwoNetworkRun()
        run.train(steps: 2)
        let set = try directory.save(run.state, step: 2)

        // The history part ("history" sorts before "optimizer-second" and "second") refuses; model, optimizer,
        // schedule and history were loaded or tried first and must be as before.
        let other = TwoNetworkRun()
        let before = other.fingerprint
        var refusing = other.state
        refusing.parts["history"] = CheckpointPart(save: { [:] }, load: { _ in throw OptimizerStateError.missingKey("nothing fits") })
        #expect {
            try directory.restore(set, into: refusing)
        } throws: { error in
            "\(error)".contains("history.safetensors") && "\(error)".contains("nothing fits")
        }
        #expect(other.fingerprint == before)
        // A run without the second network's optimizer does not fit the set either, and says which files differ.
        var fewer = other.state
        fewer.parts["optimizer-second"] = nil
        #expect {
            try directory.restore(set, into: fewer)
        } throws: { error in
            "\(error)".contains("optimizer-second.safetensors")
        }
        #expect(other.fingerprint == before)
    }

    @Test func checksumIsCRC32OfZipAndPNG() {
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
    }

    @Test func leftoversOfKilledAtomicWritesAreRemoved() throws {
        let directory = temporaryDirectory("leftovers")
        let target = directory.appendingPathComponent("generator.safetensors")
        for name in [".generator.safetensors.tmp-1-a", ".generator.safetensors.tmp-2-b", ".other.safetensors.tmp-3-c", "keep.txt"] {
            try Data([1, 2, 3]).write(to: directory.appendingPathComponent(name))
        }
        try AtomicFile.write(Data([4, 5]), to: target)
        AtomicFile.removeLeftovers(of: target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == [".other.safetensors.tmp-3-c", "generator.safetensors", "keep.txt"])
        #expect(try Data(contentsOf: target) == Data([4, 5]))
    }
}
