/// Flattens dimensions `startDim…endDim` into one (PyTorch's `nn.Flatten`; by default all but the batch dimension).
///
/// Shape: `[d0, …, d(s−1), ds, …, de, d(e+1), …]` → `[d0, …, d(s−1), ds·…·de, d(e+1), …]`.
public final class Flatten: Module {
    /// The first dimension flattened.
    public let startDim: Int
    /// The last dimension flattened (negative counts from the end).
    public let endDim: Int

    /// Flattens `startDim` through `endDim`.
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        let rank = Swift.max(x.rank, 1)
        let s = startDim < 0 ? startDim + rank : startDim
        let e = endDim < 0 ? endDim + rank : endDim
        precondition(s >= 0 && s < rank && e >= 0 && e < rank && s <= e,
                     "Flatten: dimensions \(startDim)…\(endDim) are not a range of an input of shape \(x.shape)")
        guard x.rank > 0 else { return x.reshaped([1]) }
        let shape = x.shape
        return x.reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    public override var summary: String { "startDim: \(startDim), endDim: \(endDim)" }
}
