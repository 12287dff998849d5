import Synchronization

/// Reuses the large buffers of tensors that died, so a training loop that makes the same shapes
/// every step stops asking the system allocator for them.
///
/// glibc serves large blocks with `mmap` and returns them with `munmap`, so without reuse every step
/// pays for fresh zeroed pages (page faults, system time). Buffers of at least `minimumBytes` are kept
/// per exact size, up to `capacityBytes` in all; smaller ones go straight to `malloc`, which is
/// already fast for them.
enum BufferPool {
    /// Buffers smaller than this are not pooled.
    static let minimumBytes = 16 * 1024
    /// The most the pool holds at once (buffers beyond this are freed).
    static let capacityBytes = 512 * 1024 * 1024
    /// The most buffers kept for one size.
    static let perSizeLimit = 32

    private struct State: ~Copyable {
        var free: [Int: [UnsafeMutableRawPointer]] = [:]
        var cachedBytes = 0
    }

    private static let state = Mutex(State())
    /// Buffers handed out, and how many poolable (large) ones the pool could not serve.
    static let allocations = Atomic<Int>(0)
    static let systemAllocations = Atomic<Int>(0)

    /// Bytes now held by the pool for reuse.
    static var cachedBytes: Int { state.withLock { $0.cachedBytes } }

    /// A 64-byte aligned buffer of `bytes` bytes, reused when one of that size is cached.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        allocations.wrappingAdd(1, ordering: .relaxed)
        if bytes >= minimumBytes {
            let reused: UnsafeMutableRawPointer? = state.withLock { state in
                guard let pointer = state.free[bytes]?.popLast() else { return nil }
                state.cachedBytes -= bytes
                return pointer
            }
            if let reused { return reused }
        }
        if bytes >= minimumBytes { systemAllocations.wrappingAdd(1, ordering: .relaxed) }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    /// Returns a buffer from ``allocate(bytes:)``; it is kept for reuse or freed.
    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= minimumBytes {
            let kept = state.withLock { state -> Bool in
                guard state.cachedBytes + bytes <= capacityBytes, state.free[bytes, default: []].count < perSizeLimit else { return false }
                state.free[bytes, default: []].append(pointer)
                state.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Frees every cached buffer (for tests and for handing memory back after a large job).
    static func drain() {
        let pointers = state.withLock { state -> [UnsafeMutableRawPointer] in
            defer { state.free = [:]; state.cachedBytes = 0 }
            return state.free.values.flatMap { $0 }
        }
        for p in pointers { p.deallocate() }
    }
}

extension TensorMemory {
    /// Bytes of dead tensors' buffers kept for reuse by later tensors of the same size.
    public static var pooledBytes: Int { BufferPool.cachedBytes }

    /// Tensor buffers handed out since the process started (pooled or not).
    public static var bufferAllocations: Int { BufferPool.allocations.load(ordering: .relaxed) }

    /// Large tensor buffers (at least 16 KiB) that had to come from the system allocator, not the pool.
    public static var systemBufferAllocations: Int { BufferPool.systemAllocations.load(ordering: .relaxed) }

    /// Frees the buffers kept for reuse.
    public static func releasePooledBuffers() { BufferPool.drain() }
}
