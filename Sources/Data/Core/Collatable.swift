/// A type whose values can be combined into one batch value (PyTorch's `default_collate`).
///
/// A ``DataLoader`` over a dataset of `Collatable` examples, or of pairs of them, needs no
/// collate closure:
///
/// | Example      | Batch of `B`                        |
/// |--------------|-------------------------------------|
/// | `Tensor` `[...]` | `Tensor` `[B, ...]` (stacked)   |
/// | `Int`        | `[Int]` (labels, for class indices) |
/// | `Float`      | `Tensor` `[B]`, float32             |
/// | `Double`     | `Tensor` `[B]`, float64             |
public protocol Collatable {
    /// The type of a batch of values.
    associatedtype Batch
    /// Combines `items` (at least one) into a batch, in order.
    static func collate(_ items: [Self]) -> Batch
}

extension Tensor: Collatable {
    /// Stacks `items`, which must share shape and dtype, along a new leading axis: `[B, ...]`.
    public static func collate(_ items: [Tensor]) -> Tensor {
        precondition(!items.isEmpty, "Tensor.collate: empty batch")
        let dtype = items[0].dtype
        for t in items {
            precondition(t.dtype == dtype, "Tensor.collate: dtypes \(dtype) and \(t.dtype) differ within a batch")
        }
        return Tensor.stack(items, axis: 0)
    }
}

extension Int: Collatable {
    /// The labels themselves, in order.
    public static func collate(_ items: [Int]) -> [Int] { items }
}

extension Float: Collatable {
    /// A float32 tensor of shape `[B]`.
    public static func collate(_ items: [Float]) -> Tensor { Tensor(items) }
}

extension Double: Collatable {
    /// A float64 tensor of shape `[B]`.
    public static func collate(_ items: [Double]) -> Tensor { Tensor(items) }
}
