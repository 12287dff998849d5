import Synchronization

/// Counts the bytes held by live tensor storages, so tests and benchmarks can see leaks.
let liveStorageBytes = Atomic<Int>(0)

/// The heap buffer behind a ``Tensor``: a fixed number of elements of one dtype.
///
/// A class so that tensors share it until one of them writes (copy-on-write in ``Tensor``).
/// The memory is bound to the element type once, at allocation.
final class TensorStorage {
    let dtype: DType
    let count: Int
    let raw: UnsafeMutableRawPointer

    /// Allocates uninitialised storage; callers fill every element before reading.
    init(dtype: DType, count: Int) {
        self.dtype = dtype
        self.count = count
        let bytes = max(count, 1) * dtype.byteSize
        raw = BufferPool.allocate(bytes: bytes)
        switch dtype {
        case .float32: raw.bindMemory(to: Float.self, capacity: max(count, 1))
        case .float64: raw.bindMemory(to: Double.self, capacity: max(count, 1))
        }
        liveStorageBytes.wrappingAdd(bytes, ordering: .relaxed)
    }

    deinit {
        let bytes = max(count, 1) * dtype.byteSize
        liveStorageBytes.wrappingSubtract(bytes, ordering: .relaxed)
        BufferPool.release(raw, bytes: bytes)
    }

    @inline(__always)
    func pointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        precondition(T.dtype == dtype, "storage holds \(dtype), not \(T.dtype)")
        return raw.assumingMemoryBound(to: T.self)
    }

    func copy() -> TensorStorage {
        let new = TensorStorage(dtype: dtype, count: count)
        new.raw.copyMemory(from: raw, byteCount: count * dtype.byteSize)
        return new
    }
}

/// Memory statistics of the tensor library.
public enum TensorMemory {
    /// Bytes currently held by all live tensor storages in the process.
    public static var liveBytes: Int { liveStorageBytes.load(ordering: .relaxed) }
}
