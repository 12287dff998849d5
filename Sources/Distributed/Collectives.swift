import CMPI

/// How ``ProcessGroup/allReduce(_:_:)`` combines the ranks' tensors, element by element.
public enum ReduceOperation: Sendable {
    /// The sum over ranks.
    case sum
    /// The mean over ranks: the sum divided by the world size.
    case average
    /// The largest value over ranks.
    case max
    /// The smallest value over ranks.
    case min

    var mpiOperation: MPI_Op {
        switch self {
        case .sum, .average: return cmpi_sum()
        case .max: return cmpi_max()
        case .min: return cmpi_min()
        }
    }
}

/// Collective operations on tensors (PyTorch's `torch.distributed.all_reduce`, `all_gather`, `broadcast`, `barrier`).
///
/// Every rank must call the same collectives in the same order, with tensors of the same shape and dtype; a rank that
/// does not take part leaves the others waiting until ``ProcessGroup/collectiveTimeout`` aborts the job.
extension ProcessGroup {
    /// The element-wise combination of `tensor` over every rank, returned on every rank.
    ///
    /// ```swift
    /// let meanLoss = group.allReduce(Tensor([Float(loss)]), .average)
    /// ```
    public func allReduce(_ tensor: Tensor, _ operation: ReduceOperation = .sum) -> Tensor {
        var result = tensor
        result.withRawElements { pointer, count, type in
            var requests = startAllReduce(pointer, count, type, operation.mpiOperation, "allReduce")
            wait(&requests, "allReduce")
        }
        return operation == .average ? result * (1 / Double(worldSize)) : result
    }

    /// Rank `root`'s `tensor`, returned on every rank (the others' values are replaced).
    ///
    /// - Precondition: `root` is a rank of the group.
    public func broadcast(_ tensor: Tensor, from root: Int = 0) -> Tensor {
        precondition(root >= 0 && root < worldSize, "broadcast: root \(root) is not a rank of a group of \(worldSize)")
        var result = tensor
        result.withRawElements { pointer, count, type in
            var request = start("broadcast") { MPI_Ibcast(pointer, count, type, Int32(root), communicator, $0) }
            wait(&request, "broadcast")
        }
        return result
    }

    /// Every rank's `tensor`, stacked in rank order: shape `[worldSize] + tensor.shape`.
    public func allGather(_ tensor: Tensor) -> Tensor {
        var result = Tensor.zeros([worldSize] + tensor.shape, dtype: tensor.dtype)
        var source = tensor
        source.withRawElements { sendPointer, count, type in
            result.withRawElements { receivePointer, _, _ in
                var request = start("allGather") {
                    MPI_Iallgather(sendPointer, count, type, receivePointer, count, type, communicator, $0)
                }
                wait(&request, "allGather")
            }
        }
        return result
    }

    /// Returns once every rank has called it.
    public func barrier() {
        var request = start("barrier") { MPI_Ibarrier(communicator, $0) }
        wait(&request, "barrier")
    }
}

extension Tensor {
    /// Calls `body` with the elements as MPI sees them: address, count and datatype.
    mutating func withRawElements<R>(_ body: (UnsafeMutableRawPointer, Int32, MPI_Datatype) -> R) -> R {
        precondition(count <= Int(Int32.max), "collective: \(count) elements exceed MPI's count limit of \(Int32.max)")
        switch dtype {
        case .float32:
            return withUnsafeMutableBufferPointer(as: Float.self) { body(UnsafeMutableRawPointer($0.baseAddress!), Int32($0.count), cmpi_float()) }
        case .float64:
            return withUnsafeMutableBufferPointer(as: Double.self) { body(UnsafeMutableRawPointer($0.baseAddress!), Int32($0.count), cmpi_double()) }
        }
    }
}
