import AutoGrad
import NN

/// Data-parallel training of one model over a ``ProcessGroup`` (PyTorch's `DistributedDataParallel`): every rank holds
/// the same model, runs forward and backward on its own share of the batch, and ends each step with the same gradients
/// — the mean of the ranks' — so that the same optimiser step keeps the replicas identical.
///
/// ```swift
/// let group = try ProcessGroup.world()
/// let model = makeModel()
/// let parallel = DistributedDataParallel(model, group: group)   // rank 0's parameters everywhere
/// let optimizer = Adam(model.parameters(), learningRate: 1e-3)
/// for (images, labels) in shardLoader {                          // this rank's share of the global batch
///     optimizer.zeroGrad()
///     crossEntropy(model(Variable(images)), labels).backward()   // all-reduces start during backward
///     parallel.synchronizeGradients()                             // wait: grads are now the ranks' mean
///     optimizer.step()
/// }
/// ```
///
/// ## What overlaps
///
/// The parameters are put in buckets of about ``bucketCapacityBytes`` each, in reverse order of
/// `Module.parameters()` — roughly the order in which backward finishes them. A post-accumulate gradient hook on
/// every parameter (`Variable.registerPostAccumulateGradHook(_:)`) copies its gradient into its bucket;
/// when a bucket is full it starts a non-blocking `MPI_Iallreduce` while backward goes on through the earlier layers,
/// and each later hook call lets MPI advance the transfers in flight. ``synchronizeGradients()`` sends what is left,
/// waits for every bucket and writes the mean gradients back. Buckets are launched in order on every rank, as MPI
/// requires of collectives, whatever order backward finishes them in.
///
/// ## What is made equal
///
/// At creation the parameters and the floating-point buffers (BatchNorm's running statistics) are broadcast from rank
/// 0. BatchNorm normalises with each rank's own batch statistics (PyTorch's DDP default without `SyncBatchNorm`): with
/// a per-rank batch of B, training matches one process with batch B per replica, not one with the global batch.
/// Running statistics then drift apart by rank; ``broadcastBuffers()`` makes them rank 0's again, which matters only
/// for what the other ranks evaluate, since rank 0 is the one that saves. Integer buffers (step counters) advance
/// alike on every rank and are not sent.
///
/// A parameter that got no gradient in a step (unused this step) contributes zeros, and after synchronisation has the
/// mean of the others' gradients on every rank.
///
/// ## Several models
///
/// Models trained by different optimisers — a GAN's generator and discriminator — each get their own
/// `DistributedDataParallel`, and each backward that reaches a wrapped model's parameters must be followed by that
/// model's ``synchronizeGradients()`` (or run in ``withoutGradientSync(_:)``), on every rank: the hooks fill the
/// buckets during any backward, and a second backward before synchronisation is a programming error (it traps). A
/// model that is only passed through in a step — the discriminator in the generator's update — is kept out of it by
/// setting its parameters' `requiresGrad` to false until that step's backward has finished: backward then computes
/// no gradient for them, calls none of their hooks, and nothing of that model needs synchronising. A model that gets
/// no gradient at all in a step (the generator in the discriminator's update, behind `detach()`) needs nothing.
/// ``checkReplicasMatch()`` finds a replica that went astray.
public final class DistributedDataParallel {
    /// The model replicated on every rank.
    public let module: Module
    /// The ranks it is replicated on.
    public let group: ProcessGroup
    /// The approximate size of one bucket of gradients, in bytes.
    public let bucketCapacityBytes: Int

    private let buckets: [GradientBucket]
    /// For each parameter (by identity): its bucket and its position in the bucket.
    private var placement: [ObjectIdentifier: (bucket: Int, index: Int)] = [:]
    private var nextToLaunch = 0
    private var syncDisabled = 0
    private var hooks: [GradientHookHandle] = []

    /// Replicates `module` over `group`: broadcasts its parameters and buffers from rank 0 and hooks its parameters'
    /// gradients.
    ///
    /// - Parameters:
    ///   - module: the model whose parameters and buffers are replicated.
    ///   - group: the processes that share the training.
    ///   - bucketCapacityBytes: about how many bytes of gradients one all-reduce carries (PyTorch's
    ///     `bucket_cap_mb`, 25 MB by default). Smaller buckets start communicating sooner, larger ones pay less
    ///     per-message latency.
    /// - Precondition: `bucketCapacityBytes` > 0; the model has at least one parameter that requires a gradient.
    public init(_ module: Module, group: ProcessGroup, bucketCapacityBytes: Int = 25 * 1024 * 1024) {
        precondition(bucketCapacityBytes > 0, "DistributedDataParallel: bucketCapacityBytes must be positive, got \(bucketCapacityBytes)")
        let parameters = module.parameters().filter(\.requiresGrad)
        precondition(!parameters.isEmpty, "DistributedDataParallel: the model has no parameter that requires a gradient")
        self.module = module
        self.group = group
        self.bucketCapacityBytes = bucketCapacityBytes
        self.buckets = Self.makeBuckets(parameters.reversed(), capacity: bucketCapacityBytes)
        for (b, bucket) in buckets.enumerated() {
            for (i, p) in bucket.parameters.enumerated() { placement[ObjectIdentifier(p)] = (b, i) }
        }
        Graph.noGrad {
            for p in parameters { p.value = group.broadcast(p.value, from: 0) }
        }
        broadcastBuffers()
        for p in parameters {
            hooks.append(p.registerPostAccumulateGradHook { [unowned self] leaf in self.gradientReady(leaf) })
        }
    }

    deinit {
        for hook in hooks { hook.remove() }
    }

    /// The number of buckets the gradients travel in.
    public var bucketCount: Int { buckets.count }

    /// Consecutive parameters of one dtype, up to about `capacity` bytes per bucket.
    private static func makeBuckets(_ parameters: [Variable], capacity: Int) -> [GradientBucket] {
        var groups: [[Variable]] = []
        var bytes = 0
        for p in parameters {
            let size = p.value.count * (p.dtype == .float32 ? 4 : 8)
            if let last = groups.last, bytes < capacity, last[0].dtype == p.dtype {
                groups[groups.count - 1].append(p)
                bytes += size
            } else {
                groups.append([p])
                bytes = size
            }
        }
        return groups.map(GradientBucket.init)
    }

    /// Makes every rank's floating-point buffers (running statistics) equal to rank 0's.
    public func broadcastBuffers() {
        for (_, submodule) in module.namedModules() {
            for (name, _) in submodule.namedBuffers() where !name.contains(".") && submodule.integerBuffer(named: name) == nil {
                submodule.setBuffer(named: name, to: group.broadcast(submodule.buffer(named: name)!, from: 0))
            }
        }
    }

    /// Checks that every rank holds bit-for-bit the same parameters, as data-parallel training keeps them; a debugging
    /// aid for training loops (a rank that skipped ``synchronizeGradients()``, or stepped an optimizer the others did
    /// not). Every rank must call it at the same point; it costs two all-reduces of all parameters.
    ///
    /// - Throws: ``DistributedError/replicasDiffer(parameter:difference:)`` on every rank, naming the first parameter
    ///   (in `namedParameters()` order) whose values differ between ranks.
    public func checkReplicasMatch() throws {
        let named = module.namedParameters()
        guard !named.isEmpty else { return }
        // Where the smallest and largest value over ranks agree at every element, all ranks agree.
        let flat = Tensor.concatenate(named.map { $0.variable.value.to(.float64).reshaped([-1]) }, axis: 0)
        let (largest, smallest) = (group.allReduce(flat, .max).doubles, group.allReduce(flat, .min).doubles)
        var offset = 0
        for (name, variable) in named {
            let range = offset..<(offset + variable.value.count)
            offset = range.upperBound
            let differing = range.filter { largest[$0] != smallest[$0] }
            if let first = differing.first {
                let difference = differing.map { largest[$0] - smallest[$0] }.max() ?? largest[first] - smallest[first]
                throw DistributedError.replicasDiffer(parameter: name, difference: difference)
            }
        }
    }

    /// Runs `body` — typically forward and backward on a micro-batch — without communicating: gradients accumulate
    /// locally, and the next backward outside such a scope sends the accumulated sum (PyTorch's `no_sync`).
    public func withoutGradientSync<R>(_ body: () throws -> R) rethrows -> R {
        syncDisabled += 1
        defer { syncDisabled -= 1 }
        return try body()
    }

    private func gradientReady(_ parameter: Variable) {
        guard syncDisabled == 0, let (b, i) = placement[ObjectIdentifier(parameter)] else { return }
        guard !buckets[b].isLaunched, buckets[b].markReady(i) else {
            preconditionFailure("DistributedDataParallel: a second backward reached a parameter before synchronizeGradients(); call it after each backward, or run the earlier backward passes in withoutGradientSync")
        }
        launchReadyBuckets()
        // MPI advances non-blocking collectives only inside MPI calls: testing here moves the transfers along while
        // backward computes.
        for bucket in buckets[..<nextToLaunch] where !bucket.poll(on: group) { break }
    }

    /// Launches the complete buckets that follow the last launched one, in order.
    private func launchReadyBuckets() {
        while nextToLaunch < buckets.count, buckets[nextToLaunch].isComplete {
            buckets[nextToLaunch].launch(on: group)
            nextToLaunch += 1
        }
    }

    /// Sends the gradients not yet sent, waits for every bucket, and replaces each parameter's `grad` by the mean over
    /// ranks. Call it after backward and before the optimiser step, on every rank.
    public func synchronizeGradients() {
        for bucket in buckets[nextToLaunch...] { bucket.markRemainingReady() }
        launchReadyBuckets()
        for bucket in buckets { bucket.finish(on: group) }
        nextToLaunch = 0
    }
}
