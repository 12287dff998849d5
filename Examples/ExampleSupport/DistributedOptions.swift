import ArgumentParser
import Distributed
import Foundation

/// The `--distributed` flag of the classifier examples: run as one rank of an `mpirun` job, each rank training on its
/// share of every global batch (`--batch-size` stays the global batch), with gradients averaged over ranks.
///
/// ```sh
/// mpirun -n 2 .build/release/example-mlp --distributed --threads 1
/// ```
public struct DistributedOptions: ParsableArguments {
    @Flag(help: "Train data-parallel as one rank of an mpirun job (--batch-size is the global batch, split over ranks).")
    public var distributed = false

    public init() {}

    /// The process group when `--distributed` was given, else nil. On every rank but 0, standard output is sent to
    /// /dev/null, so that the job prints one progress bar and one report; errors still reach standard error.
    ///
    /// Stops the program with a message when MPI cannot start, or when the global batch does not split evenly. Later
    /// calls return the same group.
    public func start(globalBatchSize: Int) -> ProcessGroup? {
        guard distributed else { return nil }
        let group: ProcessGroup
        do {
            group = try ProcessGroup.world()
        } catch {
            exitWithError("--distributed: \(error)")
        }
        guard globalBatchSize % group.worldSize == 0 else {
            group.abort("--batch-size \(globalBatchSize) does not split evenly over \(group.worldSize) ranks")
        }
        if !group.isMain { freopen("/dev/null", "w", stdout) }
        return group
    }
}
