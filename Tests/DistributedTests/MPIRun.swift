import Foundation
import MPITestSupport

/// Runs `distributed-check` (built next to the tests) with `arguments` on `ranks` processes under `mpirun`, killing the
/// job after `timeout` seconds. Extra environment variables are passed to every rank.
func mpirunCheck(_ arguments: [String], ranks: Int = 2, timeout: Double = 120,
                 environment: [String: String] = [:]) throws -> MPIRunResult {
    try mpirun(builtProduct("distributed-check"), arguments, ranks: ranks, timeout: timeout, environment: environment)
}
