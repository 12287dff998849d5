// Checks of Distributed that need several processes: DistributedTests runs each scenario under `mpirun -n 2`.
//
//   distributed-check collectives            allReduce, allGather, broadcast, barrier against known values
//   distributed-check equivalence [bytes]    20 SGD steps of 2 × 32 against one process × 64, replicas identical
//   distributed-check throw | crash | exit | stall   rank 1 fails at step 3; the job must end with an error, not hang
//   distributed-check checkpoint <dir>       rank 0 saves every step while rank 1 throws at step 5
//   distributed-check replicas               checkReplicasMatch() passes after steps, fails once rank 1 moves a weight
import Data
import Distributed
import Foundation
import NN
import Optim
import Training

struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let scenario = arguments.first else {
    FileHandle.standardError.write(Data("usage: distributed-check collectives|equivalence|throw|crash|exit|stall|checkpoint <dir>|replicas\n".utf8))
    exit(2)
}

let group: ProcessGroup
do {
    group = try ProcessGroup.world()
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

group.abortingOnError {
    switch scenario {
    case "collectives": try checkCollectives(group)
    case "replicas": try checkReplicaCheck(group)
    case "equivalence": try checkEquivalence(group, bucketBytes: arguments.dropFirst().first.flatMap(Int.init) ?? 25 << 20)
    case "throw", "crash", "exit", "stall": try trainUntilFailure(group, failure: scenario)
    case "checkpoint":
        guard let dir = arguments.dropFirst().first else { throw CheckFailure(description: "checkpoint needs a directory") }
        try saveWhileAnotherRankFails(group, directory: URL(fileURLWithPath: dir))
    default: throw CheckFailure(description: "unknown scenario \(scenario)")
    }
    if group.isMain { print("OK \(scenario) on \(group.worldSize) ranks") }
}
