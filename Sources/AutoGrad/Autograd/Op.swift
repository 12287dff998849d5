/// One differentiable primitive: a forward computation on tensors and a backward formula.
///
/// The backward maps the gradient of the output to one gradient per input, written with
/// differentiable operations on ``Variable``s. Because of that, a backward pass can itself be
/// recorded (`createGraph: true`) and gradients of gradients come without extra code.
///
/// A new op is one small type:
///
/// ```swift
/// struct Exp: Op {
///     func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].exp() }
///     func backward(_ gradient: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
///         [gradient * output]
///     }
/// }
/// ```
///
/// Returned gradients may have the broadcast shape of the computation; the engine sums them back
/// to each input's shape (see ``Graph``). Return `nil` for an input that gets no gradient.
public protocol Op {
    /// The name used in error messages and in NaN/Inf detection.
    var name: String { get }

    /// Computes the output from the input values.
    func forward(_ inputs: [Tensor]) -> Tensor

    /// Maps `gradient` (∂L/∂output) to ∂L/∂input for each input, using differentiable operations.
    ///
    /// - Parameters:
    ///   - gradient: the gradient of the output, with the output's shape.
    ///   - inputs: the op's inputs as recorded.
    ///   - output: the op's output, connected to this op's record when a graph of the backward is built.
    func backward(_ gradient: Variable, inputs: [Variable], output: Variable) -> [Variable?]
}

extension Op {
    /// The type's name, e.g. `"Exp"`; override it when one type implements several ops.
    public var name: String { String(describing: Self.self) }

    /// Applies the op to variables, recording it when gradients are wanted.
    ///
    /// The forward runs on the inputs' values. The result is recorded on the tape (and requires a
    /// gradient) only when ``Graph/isRecording`` is true and at least one input requires a gradient.
    public func callAsFunction(_ inputs: Variable...) -> Variable {
        Variable.apply(self, inputs)
    }

    /// Applies the op to an array of variables (for ops with a variable number of inputs, like concatenation).
    public func apply(_ inputs: [Variable]) -> Variable {
        Variable.apply(self, inputs)
    }
}
