import Foundation

/// Makes `count` items in order on a background thread, at most `capacity` ahead of the consumer.
///
/// The consumer calls ``take()`` once per item, in order. When the prefetcher is released early
/// (an epoch abandoned with `break`), the producer thread stops after the item it is making.
final class Prefetcher<Item>: @unchecked Sendable {
    private let channel: BoundedChannel<Item>

    init(count: Int, capacity: Int, make: @escaping @Sendable (Int) -> Item) {
        precondition(capacity > 0, "Prefetcher: capacity must be positive")
        let channel = BoundedChannel<Item>(capacity: capacity)
        self.channel = channel
        // The thread holds only the channel, so this object's `deinit` runs when the consumer lets go.
        let thread = Thread {
            for i in 0..<count {
                if channel.isCancelled { return }
                guard channel.put(make(i)) else { return }
            }
        }
        thread.name = "DataLoader.prefetch"
        thread.start()
    }

    deinit { channel.cancel() }

    /// Waits for and removes the next item.
    func take() -> Item { channel.take() }
}

/// A first-in first-out queue of at most `capacity` items shared by one producer and one consumer.
private final class BoundedChannel<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancelled
    }

    /// Wakes a waiting producer and makes every later `put` fail.
    func cancel() {
        condition.lock()
        cancelled = true
        items = []
        head = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for room and enqueues `item`; false when cancelled.
    func put(_ item: Item) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for and removes the next item.
    func take() -> Item {
        condition.lock(); defer { condition.unlock() }
        while items.count == head { condition.wait() }
        let item = items[head]
        head += 1
        if head >= 16 && head * 2 >= items.count {   // drop consumed slots now and then
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }
}
