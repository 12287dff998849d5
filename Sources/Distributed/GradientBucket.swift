import AutoGrad
import CMPI

/// A group of parameters whose gradients are all-reduced as one flat buffer, in non-blocking `MPI_Iallreduce`s (pieces
/// of ``ProcessGroup/allReducePieceBytes``) launched once each of them has its gradient for the step.
final class GradientBucket {
    let parameters: [Variable]
    /// Where each parameter's gradient starts in the buffer, in elements.
    let offsets: [Int]
    let dtype: DType
    private var buffer: Tensor
    private var isReady: [Bool]
    private(set) var readyCount = 0
    private(set) var isLaunched = false
    private var requests: [MPI_Request?] = []

    init(parameters: [Variable]) {
        self.parameters = parameters
        var offsets: [Int] = [], total = 0
        for p in parameters {
            offsets.append(total)
            total += p.value.count
        }
        self.offsets = offsets
        self.dtype = parameters[0].dtype
        self.buffer = Tensor.zeros([total], dtype: dtype)
        self.isReady = Array(repeating: false, count: parameters.count)
    }

    var isComplete: Bool { readyCount == parameters.count }
    var byteCount: Int { buffer.count * (dtype == .float32 ? 4 : 8) }

    /// Copies parameter `index`'s gradient (zeros when it has none) into the buffer and counts it ready.
    /// Returns false when it was ready already.
    func markReady(_ index: Int) -> Bool {
        guard !isReady[index] else { return false }
        let parameter = parameters[index], offset = offsets[index], count = parameter.value.count
        switch dtype {
        case .float32: copy(parameter.grad, Float.self, offset, count)
        case .float64: copy(parameter.grad, Double.self, offset, count)
        }
        isReady[index] = true
        readyCount += 1
        return true
    }

    private func copy<T: TensorScalar>(_ gradient: Tensor?, _: T.Type, _ offset: Int, _ count: Int) {
        buffer.withUnsafeMutableBufferPointer(as: T.self) { destination in
            let target = UnsafeMutableBufferPointer(rebasing: destination[offset..<offset + count])
            guard let gradient else { return target.update(repeating: 0) }
            let source = gradient.dtype == dtype ? gradient : gradient.to(dtype)
            source.withUnsafeBufferPointer(as: T.self) { _ = target.update(fromContentsOf: $0) }
        }
    }

    /// Marks every parameter not yet ready (those that got no gradient this step) as ready.
    func markRemainingReady() {
        for i in parameters.indices where !isReady[i] { _ = markReady(i) }
    }

    /// Starts summing the buffer over every rank.
    func launch(on group: ProcessGroup) {
        precondition(isComplete && !isLaunched)
        isLaunched = true
        buffer.withRawElements { pointer, count, type in
            requests = group.startAllReduce(pointer, count, type, cmpi_sum(), "gradient all-reduce")
        }
    }

    /// Lets MPI advance the all-reduce; true once it has completed.
    func poll(on group: ProcessGroup) -> Bool { group.test(&requests, "gradient all-reduce") }

    /// Waits for the all-reduce, writes the mean over ranks into each parameter's `grad`, and resets for the next step.
    func finish(on group: ProcessGroup) {
        group.wait(&requests, "gradient all-reduce")
        let scale = 1 / Double(group.worldSize)
        for (parameter, offset) in zip(parameters, offsets) {
            let flat = buffer.sliced(axis: 0, start: offset, end: offset + parameter.value.count)
            parameter.grad = (flat * scale).reshaped(parameter.shape)
        }
        isReady = Array(repeating: false, count: parameters.count)
        readyCount = 0
        isLaunched = false
    }
}
