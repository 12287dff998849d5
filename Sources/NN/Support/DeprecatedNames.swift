// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

extension Flatten {
    // Disfavoured so that `Flatten()`, which both initialisers accept, means the current one.
    @available(*, deprecated, renamed: "init(startAxis:endAxis:)")
    @_disfavoredOverload
    public convenience init(startDim: Int = 1, endDim: Int = -1) { self.init(startAxis: startDim, endAxis: endDim) }

    @available(*, deprecated, renamed: "startAxis")
    public var startDim: Int { startAxis }

    @available(*, deprecated, renamed: "endAxis")
    public var endDim: Int { endAxis }
}

@available(*, deprecated, renamed: "sinusoidalPositionalEncoding(positions:embeddingDim:base:dtype:)")
public func sinusoidalPositionalEncoding(positions: Range<Int>, dim: Int, base: Double = 10_000,
                                         dtype: DType = .float32) -> Tensor {
    sinusoidalPositionalEncoding(positions: positions, embeddingDim: dim, base: base, dtype: dtype)
}
