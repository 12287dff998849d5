/// What can go wrong when starting or using a process group, as a typed error.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// An MPI call returned an error code.
    case mpiFailed(call: String, code: Int32, message: String)
    /// The MPI library cannot give the thread support the group needs (calls serialised from any thread).
    case insufficientThreadSupport(provided: Int32)
    /// MPI was finalized before the group was asked for.
    case finalized
    /// The replicas of a model no longer hold the same values: `parameter` differs between ranks by up to `difference`
    /// (see ``DistributedDataParallel/checkReplicasMatch()``).
    case replicasDiffer(parameter: String, difference: Double)

    public var description: String {
        switch self {
        case let .mpiFailed(call, code, message): return "\(call) failed with MPI error \(code): \(message)"
        case let .insufficientThreadSupport(provided):
            return "MPI provides thread level \(provided), below MPI_THREAD_SERIALIZED; use an MPI built with thread support"
        case .finalized: return "MPI was already finalized in this process; a process group cannot start again"
        case let .replicasDiffer(parameter, difference):
            return "the ranks' replicas differ: parameter \(parameter) by up to \(difference) (a rank updated it without synchronizeGradients(), or from other gradients)"
        }
    }
}
