import Distributed
import Foundation
import NN

/// Bus bandwidth of ``ProcessGroup/allReduce(_:_:)`` and of a model's bucketed gradient all-reduce
/// (``DistributedDataParallel/synchronizeGradients()``) for buffer sizes from 4 KB to 64 MB, as NCCL's tests define it:
/// bytes × 2(n − 1)/n per second. `Benchmarks/mpi/allreduce_baseline.c` measures a bare `MPI_Allreduce` the same way.
func measureAllReduce(group: ProcessGroup) {
    let n = Double(group.worldSize)
    for bytes in [4 << 10, 64 << 10, 1 << 20, 8 << 20, 25 << 20, 64 << 20] {
        let tensor = Tensor.ones([bytes / 4])
        let repeats = max(5, min(200, (256 << 20) / bytes))
        for _ in 0..<3 { _ = group.allReduce(tensor) }
        group.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { _ = group.allReduce(tensor) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
        // A bucket of one parameter of this size, hooked and synchronised as in training.
        let parameter = Module()
        parameter.registerParameter("weight", Variable(Tensor.ones([bytes / 4]), requiresGrad: true))
        let parallel = DistributedDataParallel(parameter, group: group)
        let weight = parameter.parameters()[0]
        let gradient = Tensor.ones([bytes / 4])
        var bucketSeconds = 0.0
        for i in 0..<(repeats + 3) {
            weight.zeroGrad()
            weight.backward(seed: gradient)
            let t0 = DispatchTime.now().uptimeNanoseconds
            parallel.synchronizeGradients()
            if i >= 3 { bucketSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        }
        bucketSeconds /= Double(repeats)
        if group.isMain {
            let factor = 2 * (n - 1) / n
            print(String(format: "allreduce %9d bytes: allReduce %8.1f µs %7.2f GB/s | gradient bucket %8.1f µs %7.2f GB/s",
                         bytes, seconds * 1e6, Double(bytes) * factor / seconds / 1e9,
                         bucketSeconds * 1e6, Double(bytes) * factor / bucketSeconds / 1e9))
        }
    }
}
