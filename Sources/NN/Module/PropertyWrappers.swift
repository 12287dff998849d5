/// A value a ``Parameter`` can hold: a ``Variable``, or an optional one (for an optional bias).
public protocol ParameterValue {
    /// The variable held, if any.
    var parameterVariable: Variable? { get }
}

extension Variable: ParameterValue {
    public var parameterVariable: Variable? { self }
}

extension Optional: ParameterValue where Wrapped == Variable {
    public var parameterVariable: Variable? { self }
}

/// Marks a stored property of a ``Module`` as a trainable parameter (PyTorch's `nn.Parameter`).
///
/// The module finds it by reflection and names it after the property: `@Parameter var weight`
/// is `"weight"`. A variable given to a parameter when the module is made is switched to
/// `requiresGrad = true`, as `nn.Parameter` does; set it back to `false` afterwards to freeze it.
/// Assigning another module's variable ties the two (`decoder.weight = encoder.weight`); a tied
/// variable is listed once by ``Module/parameters()``.
///
/// ```swift
/// final class Affine: Module {
///     @Parameter var scale: Variable
///     @Parameter var shift: Variable?
///     init(features: Int) {
///         scale = Variable(Tensor.ones([features]))
///         shift = Variable(Tensor.zeros([features]))
///         super.init()
///     }
///     override func forward(_ x: Variable) -> Variable { shift.map { x * scale + $0 } ?? x * scale }
/// }
/// ```
@propertyWrapper
public final class Parameter<Value: ParameterValue> {
    /// The parameter's variable (or nil for an absent optional parameter).
    public var wrappedValue: Value

    /// Wraps `wrappedValue`, which must be a leaf variable; it is made to require a gradient.
    public init(wrappedValue: Value) {
        if let v = wrappedValue.parameterVariable {
            precondition(v.isLeaf, "Parameter: a parameter must be a leaf variable, got the result of op \(v.opName ?? "?"); use detach()")
            v.requiresGrad = true
        }
        self.wrappedValue = wrappedValue
    }
}

/// What reflection looks for: any ``Parameter`` box, whatever its value type.
protocol ParameterBox: AnyObject {
    var variable: Variable? { get }
}

extension Parameter: ParameterBox {
    var variable: Variable? { wrappedValue.parameterVariable }
}

/// Marks a stored tensor of a ``Module`` as a buffer: state that is saved and loaded with the
/// module but is not trained (running statistics, for example), like PyTorch's `register_buffer`.
///
/// ```swift
/// @Buffer var runningMean: Tensor = Tensor.zeros([16])
/// ```
@propertyWrapper
public final class Buffer {
    /// The buffer's value.
    public var wrappedValue: Tensor

    /// Wraps `wrappedValue`.
    public init(wrappedValue: Tensor) {
        self.wrappedValue = wrappedValue
    }
}

/// Marks a stored integer tensor of a ``Module`` as a buffer: integer state saved and loaded with the module
/// (a counter such as batch normalisation's `num_batches_tracked`), stored as `I64` in a checkpoint as PyTorch
/// stores `torch.long` buffers. ``Module/to(_:)`` leaves it alone; ``Module/stateDict()`` shows it as `float64`.
///
/// ```swift
/// @IntegerBuffer var stepsSeen: IntTensor = IntTensor(scalar: 0)
/// ```
@propertyWrapper
public final class IntegerBuffer {
    /// The buffer's value.
    public var wrappedValue: IntTensor

    /// Wraps `wrappedValue`.
    public init(wrappedValue: IntTensor) {
        self.wrappedValue = wrappedValue
    }
}
