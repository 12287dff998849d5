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
    /// The optimizer, saved as its ``Optimizer/stateDict()``.
    public var optimizer: any Optimizer
    /// The learning-rate schedule, if the run has one.
    public var schedule: (any CheckpointableSchedule)?
    /// The generators whose positions are saved, by name (the name is the key in the set's `rng.safetensors`).
    public var generators: [String: RandomGenerator]

    /// The state of a run; by default the global generator is the one generator saved.
    public init(model: Module, optimizer: any Optimizer, schedule: (any CheckpointableSchedule)? = nil,
                generators: [String: RandomGenerator] = ["global": .global]) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.generators = generators
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
}

/// A directory of checkpoint sets written so that a kill at any instant leaves every earlier set intact and the
/// newest set either complete or ignored (DESIGN.md, "Checkpoints").
///
/// A save writes `model.safetensors` (PyTorch's state-dict names), `optimizer.safetensors`, `schedule.safetensors`
/// (when there is a schedule) and `rng.safetensors` into a fresh staging directory — each file to a temporary name,
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
            "model.safetensors": SafeTensors.encode(stored: state.model.storedStateDict()),
            "optimizer.safetensors": SafeTensors.encode(state.optimizer.stateDict()),
            "rng.safetensors": SafeTensors.encode(stored: state.generators.mapValues { .integer(IntTensor($0.stateWords.map { Int(bitPattern: UInt($0)) })) }),
        ]
        if let schedule = state.schedule { files["schedule.safetensors"] = SafeTensors.encode(schedule.stateDict()) }

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
        let model = try decode("model.safetensors")
        let optimizer = try decode("optimizer.safetensors").mapValues { $0.floatingPoint(.float64) }
        guard (files["schedule.safetensors"] != nil) == (state.schedule != nil) else {
            throw CheckpointError.mismatch(path: path, reason: state.schedule == nil ? "the set has a schedule, this run none" : "the set has no schedule")
        }
        let schedule = try state.schedule.map { _ in try decode("schedule.safetensors").mapValues { $0.floatingPoint(.float64) } }
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

        // Each load validates everything before it changes anything; an earlier load is undone if a later one fails.
        let previousModel = state.model.storedStateDict(), previousOptimizer = state.optimizer.stateDict()
        do {
            try state.model.loadStateDict(stored: model)
            try state.optimizer.loadStateDict(optimizer)
            if let schedule, let target = state.schedule { try target.loadStateDict(schedule) }
        } catch {
            _ = try? state.model.loadStateDict(stored: previousModel)
            try? state.optimizer.loadStateDict(previousOptimizer)
            throw CheckpointError.mismatch(path: path, reason: "\(error)")
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
