// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

extension Tensor {
    @available(*, deprecated, renamed: "gathered(axis:indices:)")
    public func gathered(alongAxis axis: Int, indices: TensorIndices) -> Tensor { gathered(axis: axis, indices: indices) }

    @available(*, deprecated, renamed: "scatteredAdd(into:axis:indices:)")
    public func scatteredAdd(into shape: [Int], alongAxis axis: Int, indices: TensorIndices) -> Tensor {
        scatteredAdd(into: shape, axis: axis, indices: indices)
    }

    @available(*, deprecated, renamed: "indexSelected(axis:indices:)")
    public func indexSelected(alongAxis axis: Int, indices: [Int]) -> Tensor { indexSelected(axis: axis, indices: indices) }

    @available(*, deprecated, renamed: "indexAdded(into:axis:indices:)")
    public func indexAdded(into shape: [Int], alongAxis axis: Int, indices: [Int]) -> Tensor {
        indexAdded(into: shape, axis: axis, indices: indices)
    }

    @available(*, deprecated, renamed: "argmax(axis:)")
    public func argmax(alongAxis axis: Int) -> [Int] { argmax(axis: axis) }

    @available(*, deprecated, renamed: "argmin(axis:)")
    public func argmin(alongAxis axis: Int) -> [Int] { argmin(axis: axis) }

    @available(*, deprecated, renamed: "multinomial(_:sampleCount:replacement:generator:)")
    public static func multinomial(_ weights: Tensor, numSamples: Int, replacement: Bool = false,
                                   generator: RandomGenerator = .global) -> TensorIndices {
        multinomial(weights, sampleCount: numSamples, replacement: replacement, generator: generator)
    }
}

extension Variable {
    @available(*, deprecated, renamed: "gathered(axis:indices:)")
    public func gathered(alongAxis axis: Int, indices: TensorIndices) -> Variable { gathered(axis: axis, indices: indices) }

    @available(*, deprecated, renamed: "indexSelected(axis:indices:)")
    public func indexSelected(alongAxis axis: Int, indices: [Int]) -> Variable { indexSelected(axis: axis, indices: indices) }

    @available(*, deprecated, renamed: "indexAdded(into:axis:indices:)")
    public func indexAdded(into shape: [Int], alongAxis axis: Int, indices: [Int]) -> Variable {
        indexAdded(into: shape, axis: axis, indices: indices)
    }

    @available(*, deprecated, renamed: "flattened(startAxis:)")
    public func flattened(from startAxis: Int) -> Variable { flattened(startAxis: startAxis) }
}
