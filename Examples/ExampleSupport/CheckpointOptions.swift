import ArgumentParser

/// The command-line options of the classifier examples (example-mlp, example-cnn) for checkpoint sets:
/// `--checkpoint-dir DIR` saves a set (model, optimizer, epoch, RNG) there after every epoch, `--resume` continues
/// from the newest complete one.
public struct CheckpointOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint-dir"), help: "Save a checkpoint set (model, optimizer, RNG) here after every epoch.")
    public var checkpointDirectory: String?
    @Flag(help: "Continue from the newest complete checkpoint set in --checkpoint-dir (from the start when there is none).")
    public var resume = false

    public init() {}

    public func validate() throws {
        guard !resume || checkpointDirectory != nil else { throw ValidationError("--resume needs --checkpoint-dir") }
    }
}
