import ArgumentParser
import Distributed
import Foundation

/// The `--distributed` flag of the examples that train: run as one rank of an `mpirun` job, each rank training on its
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
    /// Stops the program with a message when it was not started by `mpirun` (a lone process would train as a job of
    /// one, which is never what `--distributed` asks for), when MPI cannot start, or when the global batch does not
    /// split into shares of at least `minimumPerRank` examples (`reason` says why, e.g. "batch norm"). Later calls return
    /// the same group.
    public func start(globalBatchSize: Int, minimumPerRank: Int = 1, reason: String = "") -> ProcessGroup? {
        guard distributed else { return nil }
        guard ProcessGroup.isLaunchedByMPIRun else {
            exitWithError("--distributed trains as one rank of an Open MPI job: start it with mpirun "
                          + "(e.g. `mpirun -n 2 \(CommandLine.arguments[0]) --distributed`), or leave out --distributed")
        }
        let group: ProcessGroup
        do {
            group = try ProcessGroup.world()
        } catch {
            exitWithError("--distributed: \(error)")
        }
        guard globalBatchSize % group.worldSize == 0 else {
            group.abort("--batch-size \(globalBatchSize) does not split evenly over \(group.worldSize) ranks")
        }
        guard globalBatchSize / group.worldSize >= minimumPerRank else {
            group.abort("--batch-size \(globalBatchSize) gives each of \(group.worldSize) ranks \(globalBatchSize / group.worldSize) "
                        + "examples; it needs at least \(minimumPerRank) per rank\(reason.isEmpty ? "" : " (\(reason))")")
        }
        if !group.isMain { freopen("/dev/null", "w", stdout) }
        return group
    }
}
