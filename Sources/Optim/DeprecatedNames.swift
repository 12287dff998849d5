// Spellings from before the naming convention (CONTRIBUTING.md, "Naming"): each forwards to its new name, so code
// written against them still builds and the compiler's fix-it offers the rename. No code of this package calls them
// except DeprecatedNameTests, which checks that each gives what its new name gives.

/// Carries the property spelling `optimizer.parameters`, now the method `parameters()` as on a module.
///
/// A type cannot declare both a property and a method named `parameters`, but a protocol extension may add the
/// property to a type that has the method; ``Optimizer`` and ``LBFGS`` conform for that alone.
public protocol _DeprecatedParametersProperty: AnyObject {
    func parameters() -> [Variable]
}

extension _DeprecatedParametersProperty {
    @available(*, deprecated, renamed: "parameters()")
    public var parameters: [Variable] { parameters() }
}
