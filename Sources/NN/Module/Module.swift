/// The base class of every layer and model: it owns parameters, buffers and submodules, and has
/// a training/evaluation mode (PyTorch's `nn.Module`).
///
/// ## Writing a module
///
/// Subclass `Module`, declare parameters with ``Parameter``, buffers with ``Buffer``, and keep
/// submodules in ordinary stored properties (a `Module`, an optional `Module`, or an array of
/// modules). Override ``forward(_:)``. Nothing has to be registered by hand: the module finds its
/// members by reflection (`Mirror`), in declaration order, superclass properties first.
///
/// ```swift
/// final class MLP: Module {
///     let fc1 = Linear(784, 128)
///     let fc2 = Linear(128, 10)
///     let dropout = Dropout(p: 0.2)
///
///     override func forward(_ x: Variable) -> Variable {
///         fc2(dropout(relu(fc1(x.flattened(startAxis: 1)))))
///     }
/// }
///
/// let model = MLP()
/// print(model.namedParameters().map(\.name))   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
/// ```
///
/// Members that are only known at run time (a configurable number of layers) can be added with
/// ``registerParameter(_:_:)``, `registerBuffer(_:_:)` and ``registerModule(_:_:)``; they come after
/// the reflected members, in the order of registration. An array property `blocks: [Module]` names
/// its elements `blocks.0`, `blocks.1`, … (PyTorch's `ModuleList`).
///
/// ## Names and order
///
/// Names are dotted paths (`"encoder.fc1.bias"`). ``namedParameters()`` lists each module's own
/// parameters, then its submodules' (pre-order), and lists a variable shared by several modules
/// once, under the first name found. ``stateDict()`` holds every name, shared or not, as
/// `torch.nn.Module.state_dict` does.
///
/// Do not keep a reference to a parent module in a child's stored property: it would be taken for
/// a submodule (it is skipped, being already visited, but the child's names would not be what you
/// expect).
open class Module {
    /// Whether the module is in training mode (the default); see ``train(_:)`` and ``eval()``.
    public private(set) var isTraining = true

    /// Members added with the `register…` methods, in order.
    private var registered: [(name: String, member: Member)] = []

    /// Hooks run around ``forward(_:)`` by ``callAsFunction(_:)``, in registration order (see Module+Hooks.swift).
    var forwardPreHooks: [(id: Int, hook: ForwardPreHook)] = []
    var forwardHooks: [(id: Int, hook: ForwardHook)] = []

    /// Makes a module in training mode with no members besides its stored properties.
    public init() {}

    /// Computes the module's output. Subclasses override this; `callAsFunction(_:)` calls it.
    open func forward(_ input: Variable) -> Variable {
        preconditionFailure("\(type(of: self)): forward(_:) is not implemented; override it in the subclass")
    }

    /// A one-line summary of the module's configuration, shown by `description`; override to add one.
    open var summary: String { "" }

    /// Names this module's state had in older checkpoints, mapped to today's: a checkpoint that holds the old
    /// name (and not the new one) loads as if it held the new one. Override to rename state without breaking
    /// saved files (PyTorch's `_load_from_state_dict` versioning); the names are relative to the module.
    open var legacyStateNames: [String: String] { [:] }

    /// Applies the module: `model(x)` is `model.forward(x)`, with the module's forward pre-hooks run before
    /// and its forward hooks after (``registerForwardHook(_:)``).
    public final func callAsFunction(_ input: Variable) -> Variable {
        guard !forwardPreHooks.isEmpty || !forwardHooks.isEmpty else { return forward(input) }
        return runWithHooks(input)
    }

    // MARK: Members

    /// One direct member of a module.
    enum Member {
        case parameter(any ParameterBox)
        case buffer(Buffer)
        case integerBuffer(IntegerBuffer)
        case module(Module)
    }

    /// The module's own members: reflected stored properties, then registered ones.
    func directMembers() -> [(name: String, member: Member)] {
        var mirrors: [Mirror] = []
        var next: Mirror? = Mirror(reflecting: self)
        // Module's own stored properties (the mode, the registrations, the hooks) are never members: its mirror is
        // not walked.
        while let mirror = next, mirror.subjectType != Module.self {
            mirrors.append(mirror)
            next = mirror.superclassMirror
        }
        var members: [(name: String, member: Member)] = []
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard let label = child.label, !label.hasPrefix("$"), !Self.isPlainValue(child.value) else { continue }
                // Property wrappers store their box as `_name`.
                let wrapped = label.hasPrefix("_") ? String(label.dropFirst()) : label
                switch child.value {
                case let box as any ParameterBox: members.append((wrapped, .parameter(box)))
                case let box as Buffer: members.append((wrapped, .buffer(box)))
                case let box as IntegerBuffer: members.append((wrapped, .integerBuffer(box)))
                case let module as Module: members.append((label, .module(module)))
                case let modules as [Module]:
                    for (i, module) in modules.enumerated() { members.append(("\(label).\(i)", .module(module))) }
                default: continue
                }
            }
        }
        // A pruned parameter is its trained original and its mask, under PyTorch's names.
        return (members + registered).flatMap { entry -> [(name: String, member: Member)] in
            guard case .parameter(let box) = entry.member, let mask = box.mask else { return [entry] }
            return [(entry.name + "_orig", entry.member), (entry.name + "_mask", .buffer(mask))]
        }
    }

    /// Whether `value` is of a type no member can have: the numbers, flags and shapes that layers keep beside their
    /// members. Comparing its type is far cheaper than the casts to each kind of member that would all fail.
    private static func isPlainValue(_ value: Any) -> Bool {
        let type = ObjectIdentifier(Swift.type(of: value))
        return type == ObjectIdentifier(Int.self) || type == ObjectIdentifier(Double.self) || type == ObjectIdentifier(Bool.self)
            || type == ObjectIdentifier([Int].self) || type == ObjectIdentifier(Float.self) || type == ObjectIdentifier(String.self)
            || type == ObjectIdentifier(DType.self)
    }

    private func register(_ name: String, _ member: Member, kind: String) {
        precondition(!name.isEmpty && !name.contains("."), "\(type(of: self)).register\(kind): invalid name \"\(name)\" (must be non-empty, without dots)")
        precondition(!directMembers().contains { $0.name == name }, "\(type(of: self)).register\(kind): a member named \"\(name)\" already exists")
        registered.append((name, member))
    }

    /// Adds a parameter under `name` (PyTorch's `register_parameter`); a leaf `variable` is made to require a gradient.
    ///
    /// - Precondition: `name` is non-empty, has no dot, and is not already a member's name.
    public func registerParameter(_ name: String, _ variable: Variable?) {
        register(name, .parameter(Parameter(wrappedValue: variable)), kind: "Parameter")
    }

    /// Adds a buffer under `name` (PyTorch's `register_buffer`).
    public func registerBuffer(_ name: String, _ tensor: Tensor) {
        register(name, .buffer(Buffer(wrappedValue: tensor)), kind: "Buffer")
    }

    /// Adds an integer buffer under `name` (PyTorch's `register_buffer` of a `torch.long` tensor).
    public func registerBuffer(_ name: String, _ integers: IntTensor) {
        register(name, .integerBuffer(IntegerBuffer(wrappedValue: integers)), kind: "Buffer")
    }

    /// Adds a buffer box a layer keeps a reference to, under a name its property cannot have (`running_mean`).
    func registerBuffer(_ name: String, box: Buffer) { register(name, .buffer(box), kind: "Buffer") }

    /// Adds an integer buffer box a layer keeps a reference to (`num_batches_tracked`).
    func registerBuffer(_ name: String, box: IntegerBuffer) { register(name, .integerBuffer(box), kind: "Buffer") }

    /// Adds a submodule under `name` (PyTorch's `add_module`).
    public func registerModule(_ name: String, _ module: Module) {
        register(name, .module(module), kind: "Module")
    }

    /// The direct parameter called `name` (reflected or registered), or nil.
    public func parameter(named name: String) -> Variable? {
        for (n, m) in directMembers() where n == name { if case .parameter(let box) = m { return box.variable } }
        return nil
    }

    /// The direct buffer called `name`, or nil; an integer buffer is given as `float64`.
    public func buffer(named name: String) -> Tensor? {
        if let box = integerBufferBox(named: name) { return Tensor(box.wrappedValue, dtype: .float64) }
        return bufferBox(named: name)?.wrappedValue
    }

    /// The direct integer buffer called `name`, or nil.
    public func integerBuffer(named name: String) -> IntTensor? {
        integerBufferBox(named: name)?.wrappedValue
    }

    /// Replaces the value of the direct integer buffer called `name`.
    ///
    /// - Precondition: the integer buffer exists.
    public func setBuffer(named name: String, to value: IntTensor) {
        guard let box = integerBufferBox(named: name) else {
            preconditionFailure("\(type(of: self)).setBuffer: no integer buffer named \"\(name)\"")
        }
        box.wrappedValue = value
    }

    private func integerBufferBox(named name: String) -> IntegerBuffer? {
        for (n, m) in directMembers() where n == name { if case .integerBuffer(let box) = m { return box } }
        return nil
    }

    /// Replaces the value of the direct buffer called `name`.
    ///
    /// - Precondition: the buffer exists.
    public func setBuffer(named name: String, to value: Tensor) {
        guard let box = bufferBox(named: name) else { preconditionFailure("\(type(of: self)).setBuffer: no buffer named \"\(name)\"") }
        box.wrappedValue = value
    }

    private func bufferBox(named name: String) -> Buffer? {
        for (n, m) in directMembers() where n == name { if case .buffer(let box) = m { return box } }
        return nil
    }

    /// The direct submodules with their names, in order (PyTorch's `named_children`).
    public func namedChildren() -> [(name: String, module: Module)] {
        directMembers().compactMap { entry in
            if case .module(let m) = entry.member { return (entry.name, m) } else { return nil }
        }
    }

    /// The direct submodules, in order.
    public func children() -> [Module] { namedChildren().map(\.module) }

    /// This module and all modules below it, pre-order, each listed once; the root's name is `""`.
    public func namedModules() -> [(name: String, module: Module)] {
        modulesWithMembers().map { ($0.name, $0.module) }
    }

    /// ``namedModules()`` with each module's direct members: every module is reflected once, for both the walk and
    /// what the caller looks for in it.
    final func modulesWithMembers() -> [(name: String, module: Module, members: [(name: String, member: Member)])] {
        var seen: Set<ObjectIdentifier> = []
        var result: [(name: String, module: Module, members: [(name: String, member: Member)])] = []
        func visit(_ module: Module, _ prefix: String) {
            guard seen.insert(ObjectIdentifier(module)).inserted else { return }
            let members = module.directMembers()
            result.append((prefix, module, members))
            for entry in members {
                if case .module(let child) = entry.member { visit(child, join(prefix, entry.name)) }
            }
        }
        visit(self, "")
        return result
    }

    /// This module and all modules below it, pre-order, each once.
    public func modules() -> [Module] { namedModules().map(\.module) }

    /// Every trainable parameter with its dotted name, in a stable order; a shared variable is listed once.
    public func namedParameters() -> [(name: String, variable: Variable)] {
        var seen: Set<ObjectIdentifier> = []
        var result: [(name: String, variable: Variable)] = []
        for (prefix, _, members) in modulesWithMembers() {
            for (name, member) in members {
                guard case .parameter(let box) = member, let v = box.variable,
                      seen.insert(ObjectIdentifier(v)).inserted else { continue }
                result.append((join(prefix, name), v))
            }
        }
        return result
    }

    /// The parameters, in the order of ``namedParameters()``: what an optimiser takes.
    public func parameters() -> [Variable] { namedParameters().map(\.variable) }

    /// Every buffer with its dotted name, each module visited once; integer buffers are given as `float64`.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        modulesWithMembers().flatMap { prefix, _, members in
            members.compactMap { entry -> (name: String, tensor: Tensor)? in
                switch entry.member {
                case .buffer(let box): return (join(prefix, entry.name), box.wrappedValue)
                case .integerBuffer(let box): return (join(prefix, entry.name), Tensor(box.wrappedValue, dtype: .float64))
                case .parameter, .module: return nil
                }
            }
        }
    }

    /// The total number of elements over all parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    // MARK: Mode and gradients

    /// Sets training mode (`true`) or evaluation mode on this module and every submodule.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for module in modules() { module.isTraining = mode }
        return self
    }

    /// Sets evaluation mode on this module and every submodule: `train(false)`.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Clears the gradient of every parameter (sets it to nil, as PyTorch's default `set_to_none`).
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// Converts every parameter and floating-point buffer to `dtype` in place (parameters keep their identity;
    /// integer buffers stay integers, as PyTorch's `Module.to(dtype)` leaves `torch.long` buffers alone).
    @discardableResult
    public func to(_ dtype: DType) -> Self {
        for (_, _, members) in modulesWithMembers() {
            for (_, member) in members {
                switch member {
                case .parameter(let box): if let v = box.variable { v.value = v.value.to(dtype); v.grad = v.grad?.to(dtype) }
                case .buffer(let box): box.wrappedValue = box.wrappedValue.to(dtype)
                case .integerBuffer, .module: break
                }
            }
        }
        return self
    }
}

extension Module: CustomStringConvertible {
    /// The module tree, one submodule per line, as PyTorch prints it.
    public var description: String {
        let kids = namedChildren()
        let head = "\(type(of: self))\(summary.isEmpty ? "" : "(\(summary))")"
        guard !kids.isEmpty else { return head }
        let lines = kids.map { name, module in
            "  (\(name)): " + module.description.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        }
        return "\(type(of: self))(\n" + lines.joined(separator: "\n") + "\n)"
    }
}

/// `prefix.name`, or `name` for the root.
func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}
