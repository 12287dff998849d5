import Distributed
import Foundation
import NN
import Optim

/// Data-parallel throughput and all-reduce bandwidth, run under `mpirun` (see Benchmarks/README.md):
///
///     mpirun -n 1 distributed-bench scaling W1,W2,W4 60     samples/s with one rank …
///     mpirun -n 2 distributed-bench scaling W1,W2,W4 60     … and with two, the global batch of 64 split
///     mpirun -n 2 distributed-bench allreduce               ProcessGroup.allReduce and bucketed gradients, by size
///
/// Rank 0 prints one line per measurement.
@main
enum DistributedBench {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let group: ProcessGroup
        do { group = try ProcessGroup.world() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
        group.abortingOnError {
            switch arguments.first {
            case "scaling":
                let names = (arguments.count > 1 ? arguments[1] : "W1,W2,W4").split(separator: ",").map(String.init)
                let steps = arguments.count > 2 ? Int(arguments[2]) ?? 60 : 60
                for name in names {
                    guard let workload = ParallelWorkload(rawValue: name) else {
                        throw BenchError(description: "unknown workload \(name); known: W1, W2, W4")
                    }
                    measureScaling(workload, steps: steps, group: group)
                }
            case "allreduce":
                measureAllReduce(group: group)
            default:
                throw BenchError(description: "usage: distributed-bench scaling [W1,W2,W4] [steps] | allreduce")
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
}
