// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

extension Transform where Input == Int, Output == Tensor {
    @available(*, deprecated, renamed: "oneHot(classCount:dtype:)")
    public static func oneHot(classes: Int, dtype: DType = .float32) -> Transform { oneHot(classCount: classes, dtype: dtype) }
}

@available(*, deprecated, renamed: "oneHot(_:classCount:dtype:)")
public func oneHot(_ labels: [Int], classes: Int, dtype: DType = .float32) -> Tensor {
    oneHot(labels, classCount: classes, dtype: dtype)
}
