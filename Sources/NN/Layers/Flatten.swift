/// Flattens axes `startAxis…endAxis` into one (PyTorch's `nn.Flatten`; by default all but the batch axis).
///
/// Shape: `[d0, …, d(s−1), ds, …, de, d(e+1), …]` → `[d0, …, d(s−1), ds·…·de, d(e+1), …]`.
public final class Flatten: Module {
    /// The first axis flattened.
    public let startAxis: Int
    /// The last axis flattened (negative counts from the end).
    public let endAxis: Int

    /// Flattens `startAxis` through `endAxis`.
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable { x.flattened(startAxis: startAxis, endAxis: endAxis) }

    public override var summary: String { "startAxis: \(startAxis), endAxis: \(endAxis)" }
}
