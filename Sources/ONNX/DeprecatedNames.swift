// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

extension ONNXGraphBuilder {
    @available(*, deprecated, renamed: "flatten(_:startAxis:endAxis:)")
    public func flatten(_ x: ONNXValue, startDim: Int, endDim: Int) -> ONNXValue {
        flatten(x, startAxis: startDim, endAxis: endDim)
    }
}
