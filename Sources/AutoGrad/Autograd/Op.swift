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
///
/// An op whose input gradients cost real work (a matrix product, a convolution) also implements
/// ``backward(_:inputs:output:needed:)``, which says which inputs' gradients will be used, and
/// computes only those; its plain ``backward(_:inputs:output:)`` then calls it with the mask
/// `inputs.map(\.requiresGrad)`:
///
/// ```swift
/// struct Scale: Op {   // (x, s) → x·s
///     func forward(_ x: [Tensor]) -> Tensor { x[0] * x[1] }
///     func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
///         backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
///     }
///     func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
///         [needed[0] ? g * inputs[1] : nil, needed[1] ? g * inputs[0] : nil]
///     }
/// }
/// ```
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

    /// Maps `gradient` to ∂L/∂input for the inputs whose gradient is `needed`; the engine calls this one.
    ///
    /// `needed[i]` is true when the engine will use input `i`'s gradient: the input requires a gradient
    /// and, in ``Graph/gradients(of:withRespectTo:seeds:retainGraph:createGraph:)``, it is one of the
    /// requested variables or leads to one; in ``Variable/backward(seed:retainGraph:createGraph:)`` every
    /// input that requires a gradient is needed. For an input that is not needed the op may return `nil`,
    /// and the engine ignores whatever it returns (PyTorch's `needs_input_grad`).
    ///
    /// The default calls ``backward(_:inputs:output:)``, which computes every gradient: ops that can skip
    /// work implement this one.
    ///
    /// - Parameters:
    ///   - gradient: the gradient of the output, with the output's shape.
    ///   - inputs: the op's inputs as recorded.
    ///   - output: the op's output, connected to this op's record when a graph of the backward is built.
    ///   - needed: one flag per input; at least one is true.
    func backward(_ gradient: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?]
}

extension Op {
    /// The type's name, e.g. `"Exp"`; override it when one type implements several ops.
    public var name: String { String(describing: Self.self) }

    /// Computes every input's gradient with ``backward(_:inputs:output:)``; the engine drops the ones not needed.
    public func backward(_ gradient: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        backward(gradient, inputs: inputs, output: output)
    }

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
