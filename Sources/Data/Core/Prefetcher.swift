import Foundation

/// Makes `count` items on `workers` background threads and hands them to the consumer in index order,
/// at most `capacity` ahead of it.
///
/// Workers claim indices in increasing order, so with one worker the items are made in order, and with
/// several they are made concurrently but still taken in order: the sequence the consumer sees does not
/// depend on the number of workers. When the prefetcher is released early (an epoch abandoned with
/// `break`), each worker stops after the item it is making.
final class Prefetcher<Item>: @unchecked Sendable {
    private let queue: OrderedQueue<Item>

    init(count: Int, capacity: Int, workers: Int = 1, make: @escaping @Sendable (Int) -> Item) {
        precondition(capacity > 0 && workers > 0, "Prefetcher: capacity \(capacity) and workers \(workers) must be positive")
        let queue = OrderedQueue<Item>(count: count, capacity: Swift.max(capacity, workers))
        self.queue = queue
        // The threads hold only the queue, so this object's `deinit` runs when the consumer lets go.
        for w in 0..<Swift.min(workers, count) {
            let thread = Thread {
                while let i = queue.claim() {
                    guard queue.put(make(i), at: i) else { return }
                }
            }
            thread.name = "DataLoader.worker.\(w)"
            thread.start()
        }
    }

    deinit { queue.cancel() }

    /// Waits for and removes the next item.
    func take() -> Item { queue.take() }
}

/// Items indexed `0..<count`, made by any number of producers and taken by one consumer in index order;
/// producers may not claim an index more than `capacity` past the next one to be taken.
private final class OrderedQueue<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private let capacity: Int
    private var nextToClaim = 0
    private var nextToTake = 0
    private var ready: [Int: Item] = [:]
    private var cancelled = false

    init(count: Int, capacity: Int) {
        self.count = count
        self.capacity = capacity
    }

    /// Wakes waiting producers and makes every later `claim` and `put` fail.
    func cancel() {
        condition.lock()
        cancelled = true
        ready = [:]
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for room and returns the next index to make; nil when all are claimed or the queue is cancelled.
    func claim() -> Int? {
        condition.lock(); defer { condition.unlock() }
        while nextToClaim - nextToTake >= capacity && !cancelled { condition.wait() }
        guard !cancelled, nextToClaim < count else { return nil }
        defer { nextToClaim += 1 }
        return nextToClaim
    }

    /// Stores item `index`; false when cancelled.
    func put(_ item: Item, at index: Int) -> Bool {
        condition.lock(); defer { condition.unlock() }
        if cancelled { return false }
        ready[index] = item
        condition.broadcast()
        return true
    }

    /// Waits for and removes the next item in index order.
    func take() -> Item {
        condition.lock(); defer { condition.unlock() }
        while ready[nextToTake] == nil { condition.wait() }
        let item = ready.removeValue(forKey: nextToTake)!
        nextToTake += 1
        condition.broadcast()
        return item
    }
}
