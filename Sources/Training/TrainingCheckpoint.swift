import Foundation
import NN
import Optim

/// Why a checkpoint set could not be written, found or restored. Every case names the path.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// A file or directory could not be created, written, renamed or read.
    case ioFailed(path: String, reason: String)
    /// The set is not a complete one: its manifest is missing or unreadable, or a file it lists is missing or
    /// differs in size or checksum (a save that was interrupted, or a damaged disk).
    case incomplete(path: String, reason: String)
    /// The set is complete but does not fit what it is restored into (other keys, shapes, generators, schedule).
    case mismatch(path: String, reason: String)

    /// A one-line message starting with `checkpoint:` and naming the path and the problem.
    public var description: String {
        switch self {
        case let .ioFailed(path, reason): return "checkpoint: \(path): \(reason)"
        case let .incomplete(path, reason): return "checkpoint: \(path) is not a complete set: \(reason)"
        case let .mismatch(path, reason): return "checkpoint: \(path) does not fit this training run: \(reason)"
        }
    }
}

/// What a training run must save to continue exactly where it stopped: the model's parameters and buffers, the
/// optimizer's state and hyper-parameters, the learning-rate schedule's progress, and the random generators
/// (dropout, shuffling, augmentation) by name.
public struct TrainingState {
    /// The model, saved as its state dictionary with integer buffers as `I64` (PyTorch's names and dtypes).
    public var model: Module
    /// The optimizer, saved as its `stateDict()`.
    public var optimizer: any Optimizer
    /// The learning-rate schedule, if the run has one.
    public var schedule: (any CheckpointableSchedule)?
    /// The generators whose positions are saved, by name (the name is the key in the set's `rng.safetensors`).
    public var generators: [String: RandomGenerator]
    /// Further state saved beside the model and optimizer, each as the file `<name>.safetensors` of the set: a
    /// second network and its optimizer (a GAN's discriminator), a loss history.
    ///
    /// A name is a plain file name (no `/`, not starting with `.`) other than `model`, `optimizer`, `schedule`,
    /// `rng` and `manifest`.
    public var parts: [String: CheckpointPart]

    /// The state of a run; by default the global generator is the one generator saved.
    public init(model: Module, optimizer: any Optimizer, schedule: (any CheckpointableSchedule)? = nil,
                generators: [String: RandomGenerator] = ["global": .global], parts: [String: CheckpointPart] = [:]) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.generators = generators
        self.parts = parts
    }

    static let reservedNames: Set<String> = ["model", "optimizer", "schedule", "rng", "manifest"]

    /// Every part with its file name: model, optimizer, schedule (when there is one), then ``parts`` by name.
    var files: [(name: String, part: CheckpointPart)] {
        var files: [(name: String, part: CheckpointPart)] = [("model.safetensors", .model(model)),
                                                             ("optimizer.safetensors", .optimizer(optimizer))]
        if let schedule { files.append(("schedule.safetensors", .schedule(schedule))) }
        for (name, part) in parts.sorted(by: { $0.key < $1.key }) {
            precondition(!name.isEmpty && !name.contains("/") && !name.hasPrefix(".") && !Self.reservedNames.contains(name),
                         "TrainingState: part name \"\(name)\" must be a plain file name other than \(Self.reservedNames.sorted())")
            files.append(("\(name).safetensors", part))
        }
        return files
    }
}

/// One piece of a run's state that a checkpoint set holds as one safetensors file: how to read it out and how to
/// put it back.
///
/// ```swift
/// let state = TrainingState(model: generator, optimizer: optimizerG,
///                           parts: ["discriminator": .model(discriminator), "optimizer-discriminator": .optimizer(optimizerD)])
/// ```
public struct CheckpointPart {
    let save: () -> [String: StoredTensor]
    /// Replaces the state by a dictionary made by `save`; changes nothing when it throws.
    let load: ([String: StoredTensor]) throws -> Void

    /// State kept as floating-point tensors: `save` returns it, `load` replaces it by a dictionary `save` made (read
    /// back as `float64`) and must change nothing when it throws.
    public init(save: @escaping () -> [String: Tensor], load: @escaping ([String: Tensor]) throws -> Void) {
        self.save = { save().mapValues(StoredTensor.float) }
        self.load = { try load($0.mapValues { $0.floatingPoint(.float64) }) }
    }

    private init(stored save: @escaping () -> [String: StoredTensor], load: @escaping ([String: StoredTensor]) throws -> Void) {
        self.save = save
        self.load = load
    }

    /// A module's state dictionary under PyTorch's names, integer buffers as `I64`, loaded strictly.
    public static func model(_ module: Module) -> CheckpointPart {
        CheckpointPart(stored: { module.storedStateDict() }, load: { _ = try module.loadStateDict(stored: $0) })
    }

    /// An optimizer's `stateDict()` (moments, step counts, hyper-parameters).
    public static func optimizer(_ optimizer: any Optimizer) -> CheckpointPart {
        CheckpointPart(save: { optimizer.stateDict() }, load: { try optimizer.loadStateDict($0) })
    }

    /// A learning-rate schedule's progress.
    public static func schedule(_ schedule: any CheckpointableSchedule) -> CheckpointPart {
        CheckpointPart(save: { schedule.stateDict() }, load: { try schedule.loadStateDict($0) })
    }
}

/// One complete checkpoint set on disk: a directory `step-<step>` whose manifest lists its files.
public struct CheckpointSet: Equatable, Sendable {
    /// The set's directory.
    public let url: URL
    /// The training step it was saved at.
    public let step: Int
    /// The string metadata given to ``CheckpointDirectory/save(_:step:metadata:)``.
    public let metadata: [String: String]

    /// The set whose directory is `url` (a `step-…` directory), after checking that it is complete: its manifest is
    /// there and every file it lists matches in size and checksum.
    ///
    /// - Throws: ``CheckpointError/incomplete(path:reason:)`` when it is not a complete set.
    public init(verifying url: URL) throws {
        self = try CheckpointDirectory.verify(url)
    }

    init(url: URL, step: Int, metadata: [String: String]) {
        self.url = url
        self.step = step
        self.metadata = metadata
    }
}

/// A directory of checkpoint sets written so that a kill at any instant leaves every earlier set intact and the
/// newest set either complete or ignored (DESIGN.md, "Checkpoints").
///
/// A save writes `model.safetensors` (PyTorch's state-dict names), `optimizer.safetensors`, `schedule.safetensors`
/// (when there is a schedule), one `<name>.safetensors` per ``TrainingState/parts`` entry and `rng.safetensors` into a
/// fresh staging directory — each file to a temporary name,
/// flushed with `fsync`, then renamed — and then `manifest.json`, which lists every file with its size and CRC-32,
/// last of all. Only then is the staging directory renamed to `step-<step>` (one atomic rename) and the directory
/// flushed. ``latestComplete()`` takes the newest `step-…` directory whose manifest is present and whose files
/// match it, skipping anything else; ``save(_:step:metadata:)`` keeps the newest `keepLast` sets and removes
/// staging directories that a killed save left behind. One process saves into a directory at a time.
///
/// ```swift
/// let checkpoints = try CheckpointDirectory(URL(fileURLWithPath: "runs/mlp"), keepLast: 3)
/// let state = TrainingState(model: model, optimizer: optimizer, schedule: schedule)
/// var step = try checkpoints.restoreLatest(into: state)?.step ?? 0   // --resume
/// while step < totalSteps {
///     trainOneStep(); step += 1
///     if step % 500 == 0 { try checkpoints.save(state, step: step) }
/// }
/// ```
public final class CheckpointDirectory {
    /// The directory holding the sets.
    public let url: URL
    /// How many complete sets a save keeps (the newest ones).
    public let keepLast: Int

    static let manifestName = "manifest.json"
    static let setPrefix = "step-"
    private static let stagingPrefix = ".staging-"

    /// Opens (creating it if needed) the directory of sets at `url`.
    ///
    /// - Precondition: `keepLast` ≥ 1.
    /// - Throws: ``CheckpointError/ioFailed(path:reason:)`` when the directory cannot be created.
    public init(_ url: URL, keepLast: Int = 3) throws {
        precondition(keepLast >= 1, "CheckpointDirectory: keepLast \(keepLast) must be at least 1")
        self.url = url
        self.keepLast = keepLast
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.ioFailed(path: url.path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
    }

    // MARK: Saving

    /// Saves `state` as the set of `step`, atomically, then removes sets beyond the newest ``keepLast``.
    ///
    /// A set of the same step already there is replaced (it is renamed aside before the new one takes its name).
    /// - Precondition: `step` ≥ 0.
    /// - Throws: ``CheckpointError/ioFailed(path:reason:)``; earlier sets are intact when it throws.
    @discardableResult
    public func save(_ state: TrainingState, step: Int, metadata: [String: String] = [:]) throws -> CheckpointSet {
        precondition(step >= 0, "CheckpointDirectory.save: step \(step) must not be negative")
        var files: [String: Data] = [
            "rng.safetensors": SafeTensors.encode(stored: state.generators.mapValues { .integer(IntTensor($0.stateWords.map { Int(bitPattern: UInt($0)) })) }),
        ]
        for (name, part) in state.files { files[name] = SafeTensors.encode(stored: part.save()) }

        let staging = url.appendingPathComponent("\(Self.stagingPrefix)\(step)-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw CheckpointError.ioFailed(path: staging.path, reason: "cannot create: \(error.localizedDescription)")
        }
        var entries: [String: Manifest.File] = [:]
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            try AtomicFile.write(data, to: staging.appendingPathComponent(name))
            entries[name] = Manifest.File(bytes: data.count, crc32: CRC32.checksum(data))
        }
        let manifest = Manifest(step: step, files: entries, metadata: metadata)
        try AtomicFile.write(try manifest.encoded(), to: staging.appendingPathComponent(Self.manifestName))

        let destination = url.appendingPathComponent(Self.setName(step), isDirectory: true)
        if FileManager.default.fileExists(atPath: destination.path) {
            let aside = url.appendingPathComponent("\(Self.stagingPrefix)replaced-\(step)-\(UUID().uuidString)")
            try AtomicFile.rename(destination, to: aside)
            try AtomicFile.rename(staging, to: destination)
            try? FileManager.default.removeItem(at: aside)
        } else {
            try AtomicFile.rename(staging, to: destination)
        }
        try AtomicFile.synchronizeDirectory(url)
        prune()
        return CheckpointSet(url: destination, step: step, metadata: metadata)
    }

    /// Removes complete sets beyond the newest ``keepLast`` and staging directories left by interrupted saves.
    private func prune() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where name.hasPrefix(Self.stagingPrefix) {
            try? fm.removeItem(at: url.appendingPathComponent(name))
        }
        for set in completeSets().dropLast(keepLast) { try? fm.removeItem(at: set.url) }
    }

    static func setName(_ step: Int) -> String {
        let digits = String(step)
        return setPrefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    // MARK: Finding

    /// The complete sets, oldest (smallest step) first; incomplete ones are left out.
    public func completeSets() -> [CheckpointSet] {
        Self.candidates(in: url).compactMap { try? Self.verify($0) }.reversed()
    }

    /// The newest complete set, or nil when there is none.
    public func latestComplete() -> CheckpointSet? { Self.latestComplete(in: url) }

    /// The newest complete set in the directory at `url`, or nil when there is none (or no directory).
    public static func latestComplete(in url: URL) -> CheckpointSet? {
        for candidate in candidates(in: url) {
            if let set = try? verify(candidate) { return set }
        }
        return nil
    }

    /// The `step-…` directories, newest first.
    private static func candidates(in url: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(setPrefix), let step = Int(name.dropFirst(setPrefix.count)), step >= 0 else { return nil }
            return (step, url.appendingPathComponent(name, isDirectory: true))
        }
        .sorted { $0.0 > $1.0 }
        .map(\.1)
    }

    /// The set at `directory` when its manifest is there and every file it lists matches; its files' contents.
    @discardableResult
    static func verify(_ directory: URL) throws -> CheckpointSet {
        try read(directory).set
    }

    private static func read(_ directory: URL) throws -> (set: CheckpointSet, files: [String: Data]) {
        let manifestURL = directory.appendingPathComponent(manifestName)
        guard let manifestData = try? Data(contentsOf: manifestURL) else {
            throw CheckpointError.incomplete(path: directory.path, reason: "no readable \(manifestName)")
        }
        let manifest = try Manifest.decode(manifestData, path: directory.path)
        guard directory.lastPathComponent == setName(manifest.step) else {
            throw CheckpointError.incomplete(path: directory.path, reason: "the manifest is for step \(manifest.step)")
        }
        var files: [String: Data] = [:]
        for (name, expected) in manifest.files {
            guard !name.contains("/"), let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else {
                throw CheckpointError.incomplete(path: directory.path, reason: "\(name) is missing")
            }
            guard data.count == expected.bytes, CRC32.checksum(data) == expected.crc32 else {
                throw CheckpointError.incomplete(path: directory.path, reason: "\(name) differs from the manifest (size or checksum)")
            }
            files[name] = data
        }
        return (CheckpointSet(url: directory, step: manifest.step, metadata: manifest.metadata), files)
    }

    // MARK: Restoring

    /// Restores `state` from `set`, after verifying it again; nothing in `state` changes when it throws.
    ///
    /// - Throws: ``CheckpointError/incomplete(path:reason:)`` when the set is no longer complete,
    ///   ``CheckpointError/mismatch(path:reason:)`` when it does not fit `state`.
    public func restore(_ set: CheckpointSet, into state: TrainingState) throws {
        let (_, files) = try Self.read(set.url)
        let path = set.url.path
        func decode(_ name: String) throws -> [String: StoredTensor] {
            guard let data = files[name] else { throw CheckpointError.mismatch(path: path, reason: "the set has no \(name)") }
            do {
                return try SafeTensors.decodeStored(data, path: set.url.appendingPathComponent(name).path).tensors
            } catch {
                throw CheckpointError.mismatch(path: path, reason: "\(error)")
            }
        }
        let expected = state.files.map(\.name)
        let held = files.keys.filter { $0 != "rng.safetensors" }
        guard Set(held) == Set(expected) else {
            throw CheckpointError.mismatch(path: path, reason: "the set holds \(held.sorted()), this run saves \(expected.sorted())")
        }
        let contents = try expected.map(decode)
        let rng = try decode("rng.safetensors")
        guard Set(rng.keys) == Set(state.generators.keys) else {
            throw CheckpointError.mismatch(path: path, reason: "the set has generators \(rng.keys.sorted()), this run \(state.generators.keys.sorted())")
        }
        var words: [String: [UInt64]] = [:]
        for (name, value) in rng {
            guard case .integer(let t) = value, t.shape == [4], t.values.contains(where: { $0 != 0 }) else {
                throw CheckpointError.mismatch(path: path, reason: "generator \"\(name)\" is not four non-zero 64-bit words")
            }
            words[name] = t.values.map { UInt64(UInt(bitPattern: $0)) }
        }

        // Each load validates everything before it changes anything; earlier loads are undone if a later one fails.
        let parts = state.files.map(\.part)
        let previous = parts.map { $0.save() }
        for (index, part) in parts.enumerated() {
            do {
                try part.load(contents[index])
            } catch {
                for (undo, saved) in zip(parts, previous).prefix(index) { try? undo.load(saved) }
                throw CheckpointError.mismatch(path: path, reason: "\(state.files[index].name): \(error)")
            }
        }
        for (name, generator) in state.generators { generator.stateWords = words[name]! }
    }

    /// Restores `state` from the newest complete set and returns it, or returns nil (changing nothing) when there
    /// is none — a run started with `--resume` in an empty directory starts from the beginning.
    ///
    /// - Throws: as ``restore(_:into:)``.
    @discardableResult
    public func restoreLatest(into state: TrainingState) throws -> CheckpointSet? {
        guard let set = latestComplete() else { return nil }
        try restore(set, into: state)
        return set
    }
}

/// The manifest of a set, written last: its step, its files with their sizes and checksums, user metadata.
private struct Manifest: Codable {
    struct File: Codable {
        let bytes: Int
        let crc32: UInt32
    }

    static let formatName = "swift-autograd checkpoint set"
    var format = Manifest.formatName
    var version = 1
    let step: Int
    let files: [String: File]
    let metadata: [String: String]

    init(step: Int, files: [String: File], metadata: [String: String]) {
        self.step = step
        self.files = files
        self.metadata = metadata
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func decode(_ data: Data, path: String) throws -> Manifest {
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            throw CheckpointError.incomplete(path: path, reason: "the manifest is not valid JSON of the expected form")
        }
        guard manifest.format == formatName, manifest.version == 1, manifest.step >= 0,
              manifest.files.values.allSatisfy({ $0.bytes >= 0 }) else {
            throw CheckpointError.incomplete(path: path, reason: "the manifest is not a version-1 checkpoint manifest")
        }
        return manifest
    }
}
