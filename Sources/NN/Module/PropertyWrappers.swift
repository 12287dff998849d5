/// A value a ``Parameter`` can hold: a `Variable`, or an optional one (for an optional bias).
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
///
/// A pruned parameter (``Module/prune(_:mask:)``) reads as `original · mask`, recomputed on every read, as
/// PyTorch's pruning hook recomputes `weight` from `weight_orig` and `weight_mask` before every forward pass.
@propertyWrapper
public final class Parameter<Value: ParameterValue> {
    /// What the parameter holds: the trained variable (`weight_orig` while pruned).
    private var stored: Value

    /// The mask of a pruned parameter, nil otherwise.
    var mask: Buffer?

    /// The parameter's variable (or nil for an absent optional parameter); while pruned, the product of the
    /// trained variable and the mask, so a gradient reaches only the entries the mask keeps.
    ///
    /// - Precondition: a pruned parameter is not assigned (remove the pruning first).
    public var wrappedValue: Value {
        get {
            guard let mask, let original = stored.parameterVariable else { return stored }
            return (original * Variable(mask.wrappedValue)) as! Value
        }
        set {
            precondition(mask == nil, "Parameter: a pruned parameter cannot be assigned; call removePruning first")
            stored = newValue
        }
    }

    /// Wraps `wrappedValue`, which must be a leaf variable; it is made to require a gradient.
    public init(wrappedValue: Value) {
        if let v = wrappedValue.parameterVariable {
            precondition(v.isLeaf, "Parameter: a parameter must be a leaf variable, got the result of op \(v.opName ?? "?"); use detach()")
            v.requiresGrad = true
        }
        self.stored = wrappedValue
    }
}

/// What reflection looks for: any ``Parameter`` box, whatever its value type.
protocol ParameterBox: AnyObject {
    /// The trained variable (the original, not the masked product, while pruned).
    var variable: Variable? { get }
    /// The pruning mask, nil when not pruned.
    var mask: Buffer? { get set }
}

extension Parameter: ParameterBox {
    var variable: Variable? { stored.parameterVariable }
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
