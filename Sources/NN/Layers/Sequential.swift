/// Modules applied one after another (PyTorch's `nn.Sequential`); its children are named `"0"`, `"1"`, ….
///
/// ```swift
/// let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
/// // or
/// let same = Sequential {
///     Linear(784, 128)
///     ReLU()
///     Linear(128, 10)
/// }
/// print(model.namedParameters().map(\.name))   // ["0.weight", "0.bias", "2.weight", "2.bias"]
/// ```
public final class Sequential: Module {
    /// Builds the list of layers for `Sequential.init(_:)` with a builder.
    @resultBuilder
    public enum Builder {
        public static func buildExpression(_ module: Module) -> [Module] { [module] }
        public static func buildBlock(_ parts: [Module]...) -> [Module] { parts.flatMap { $0 } }
        public static func buildOptional(_ part: [Module]?) -> [Module] { part ?? [] }
        public static func buildEither(first: [Module]) -> [Module] { first }
        public static func buildEither(second: [Module]) -> [Module] { second }
        public static func buildArray(_ parts: [[Module]]) -> [Module] { parts.flatMap { $0 } }
    }

    /// A sequence of `layers`.
    public init(_ layers: [Module]) {
        super.init()
        for layer in layers { append(layer) }
    }

    /// A sequence of the given layers.
    public convenience init(_ layers: Module...) { self.init(layers) }

    /// A sequence of the layers listed in the closure.
    public convenience init(@Builder _ layers: () -> [Module]) { self.init(layers()) }

    /// The layers in order.
    public var layers: [Module] { ordered.layers }

    /// The layers kept in order beside their registration, so ``forward(_:)`` does not reflect on
    /// every call (a reflected lookup cost about 0.1 ms, paid on every forward pass).
    /// A class, not a `[Module]`, so reflection does not take it for a list of submodules.
    private final class LayerList {
        var layers: [Module] = []
    }

    private let ordered = LayerList()

    /// The number of layers.
    public var count: Int { layers.count }

    /// The layer at `index`.
    public subscript(index: Int) -> Module {
        let all = layers
        precondition(index >= 0 && index < all.count, "Sequential: index \(index) out of range for \(all.count) layers")
        return all[index]
    }

    /// Adds `layer` at the end, named by its position.
    public func append(_ layer: Module) {
        registerModule("\(count)", layer)
        ordered.layers.append(layer)
    }

    /// Each layer applied to the previous one's output.
    public override func forward(_ x: Variable) -> Variable {
        layers.reduce(x) { $1($0) }
    }
}
