/// The machinery shared by every optimizer here: parameter groups with their own hyper-parameters,
/// per-parameter state, ``step()``, ``zeroGrad()`` and state dictionaries.
///
/// A concrete optimizer (``SGD``, ``Adam``, ...) supplies the names of its per-parameter state
/// tensors and the update of one parameter. Parameters are visited group by group in list order;
/// state is kept per parameter object, so a parameter keeps its state when groups are edited.
public class GroupedOptimizer<Options: OptimizerOptions>: Optimizer {
    /// The parameter groups. Change a group's ``ParameterGroup/options`` to change its
    /// hyper-parameters between steps; add groups with ``addParameterGroup(_:)``.
    public var parameterGroups: [ParameterGroup<Options>] {
        didSet { checkGroups() }
    }

    /// The hyper-parameters that groups fall back on.
    public let defaults: Options

    var states: [ObjectIdentifier: ParameterState] = [:]

    init(groups: [ParameterGroup<Options>], defaults: Options) {
        self.defaults = defaults
        self.parameterGroups = groups.map { $0.resolved(defaults: defaults) }
        checkGroups()
    }

    /// Adds a group whose options are ``defaults`` plus its overrides (PyTorch's `add_param_group`).
    ///
    /// - Precondition: none of its parameters is in another group.
    public func addParameterGroup(_ group: ParameterGroup<Options>) {
        parameterGroups.append(group.resolved(defaults: defaults))
    }

    private func checkGroups() {
        precondition(!parameterGroups.isEmpty, "\(Self.self): needs at least one parameter group")
        var seen = Set<ObjectIdentifier>()
        for (g, group) in parameterGroups.enumerated() {
            if let problem = problem(with: group.options) {
                preconditionFailure("\(Self.self): parameter group \(g): \(problem.field) = \(problem.value): \(problem.requirement)")
            }
            for p in group.parameters {
                precondition(seen.insert(ObjectIdentifier(p)).inserted,
                             "\(Self.self): a parameter of shape \(p.shape) appears more than once in the parameter groups")
            }
        }
    }

    // MARK: Optimizer

    /// Every parameter, group by group, in list order.
    public func parameters() -> [Variable] { parameterGroups.flatMap(\.parameters) }

    /// The first group's learning rate; setting it sets every group's.
    public var learningRate: Double {
        get { parameterGroups[0].options.learningRate }
        set {
            for g in parameterGroups.indices { parameterGroups[g].options.learningRate = newValue }
        }
    }

    /// Each group's learning rate, in group order.
    public var learningRates: [Double] {
        get { parameterGroups.map(\.options.learningRate) }
        set {
            precondition(newValue.count == parameterGroups.count,
                         "\(Self.self).learningRates: \(newValue.count) rates for \(parameterGroups.count) groups")
            for (g, rate) in newValue.enumerated() { parameterGroups[g].options.learningRate = rate }
        }
    }

    /// Updates every parameter that has a gradient with this optimizer's rule, in group order.
    public func step() {
        for group in parameterGroups {
            let names = stateNames(for: group.options)
            for parameter in group.parameters {
                guard let gradient = parameter.grad else { continue }
                precondition(gradient.shape == parameter.shape && gradient.dtype == parameter.dtype,
                             "\(Self.self).step: gradient \(gradient.shape) \(gradient.dtype) does not match parameter \(parameter.shape) \(parameter.dtype)")
                let id = ObjectIdentifier(parameter)
                var state = states.removeValue(forKey: id) ?? ParameterState(parameter: parameter)
                state.step += 1
                var isNewState = false
                var buffers = names.map { name -> Tensor in
                    if let buffer = state.buffers.removeValue(forKey: name) { return buffer }
                    isNewState = true
                    return initialState(named: name, for: parameter.value, options: group.options)
                }
                update(&parameter.value, gradient: gradient, state: &buffers, step: state.step,
                       isNewState: isNewState, options: group.options)
                for (name, buffer) in zip(names, buffers) { state.buffers[name] = buffer }
                states[id] = state
            }
        }
    }

    /// Sets every parameter's gradient to nil.
    public func zeroGrad() {
        for group in parameterGroups {
            for parameter in group.parameters { parameter.zeroGrad() }
        }
    }

    // MARK: What each optimizer supplies

    /// Whether the per-parameter state includes a step count (`state.<i>.step`).
    var tracksStep: Bool { true }

    /// The names of the per-parameter state tensors under these options, in the order ``update``
    /// receives them.
    func stateNames(for options: Options) -> [String] { [] }

    /// The value of a state tensor before the first update (zeros unless overridden).
    func initialState(named name: String, for parameter: Tensor, options: Options) -> Tensor {
        .zeros(like: parameter)
    }

    /// The first hyper-parameter of these options that is out of range, or nil when all are fine.
    ///
    /// Checked when a group is created or changed (a precondition) and when a state dictionary is
    /// loaded (a thrown ``OptimizerStateError``): an infinite or NaN value would turn every parameter
    /// into NaN on the next step.
    func problem(with options: Options) -> OptionProblem? {
        .first(
            .finiteAtLeastZero("lr", options.learningRate),
            .finiteAtLeastZero("weight_decay", options.weightDecay))
    }

    /// The names of the state tensors that hold second moments or sums of squares, which must not be
    /// negative (their square root is taken).
    var nonNegativeStateNames: Set<String> { [] }

    /// Updates one parameter in place.
    ///
    /// - Parameters:
    ///   - state: the tensors named by ``stateNames(for:)``, in that order, updated in place.
    ///   - step: how many updates this parameter has had, this one included (1 on the first).
    ///   - isNewState: whether a state tensor was just created by ``initialState(named:for:options:)``.
    func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int,
                isNewState: Bool, options: Options) {
        fatalError("\(Self.self) must override update")
    }
}

/// A hyper-parameter out of range: its PyTorch name, its value and what it must be.
struct OptionProblem: Equatable {
    let field: String
    let value: String
    let requirement: String

    /// A problem unless `isValid`.
    static func check(_ field: String, _ value: Any, _ isValid: Bool, _ requirement: String) -> OptionProblem? {
        isValid ? nil : OptionProblem(field: field, value: "\(value)", requirement: requirement)
    }

    /// A problem unless `value` is finite and ≥ 0.
    static func finiteAtLeastZero(_ field: String, _ value: Double) -> OptionProblem? {
        check(field, value, value.isFinite && value >= 0, "must be finite and ≥ 0")
    }

    /// A problem unless `value` is finite and > 0.
    static func finitePositive(_ field: String, _ value: Double) -> OptionProblem? {
        check(field, value, value.isFinite && value > 0, "must be finite and > 0")
    }

    /// A problem unless 0 ≤ `value` ≤ 1 (or < 1 when `open`).
    static func unitInterval(_ field: String, _ value: Double, open: Bool = false) -> OptionProblem? {
        open ? check(field, value, value >= 0 && value < 1, "must be in [0, 1)")
             : check(field, value, value >= 0 && value <= 1, "must be in [0, 1]")
    }

    /// The first problem of a list, in order.
    static func first(_ problems: OptionProblem?...) -> OptionProblem? {
        problems.lazy.compactMap { $0 }.first
    }
}

/// What an optimizer remembers about one parameter.
struct ParameterState {
    /// Held so that the object identifier keying this state cannot be reused by another variable.
    let parameter: Variable
    var step = 0
    var buffers: [String: Tensor] = [:]
}
