/// A function run before a module's ``Module/forward(_:)`` with the module and its input; a non-nil result
/// replaces the input.
public typealias ForwardPreHook = (_ module: Module, _ input: Variable) -> Variable?

/// A function run after a module's ``Module/forward(_:)`` with the module, its input and its output; a non-nil
/// result replaces the output.
public typealias ForwardHook = (_ module: Module, _ input: Variable, _ output: Variable) -> Variable?

/// The handle of a registered hook: ``remove()`` unregisters it (PyTorch's `RemovableHandle`).
public final class HookHandle {
    private var removal: (() -> Void)?

    init(_ removal: @escaping () -> Void) { self.removal = removal }

    /// Unregisters the hook; a second call does nothing.
    public func remove() {
        removal?()
        removal = nil
    }
}

extension Module {
    /// Registers `hook` to run before every ``forward(_:)`` through ``callAsFunction(_:)``, after the hooks
    /// registered earlier — PyTorch's `register_forward_pre_hook`. Returning a variable replaces the input.
    ///
    /// ```swift
    /// let handle = model.fc1.registerForwardPreHook { _, x in x.clamped(min: -3, max: 3) }
    /// handle.remove()
    /// ```
    @discardableResult
    public func registerForwardPreHook(_ hook: @escaping ForwardPreHook) -> HookHandle {
        let id = nextHookID()
        forwardPreHooks.append((id, hook))
        return HookHandle { [weak self] in self?.forwardPreHooks.removeAll { $0.id == id } }
    }

    /// Registers `hook` to run after every ``forward(_:)`` through ``callAsFunction(_:)``, after the hooks
    /// registered earlier — PyTorch's `register_forward_hook`. It sees the input the forward received (after
    /// the pre-hooks) and its output; returning a variable replaces the output.
    ///
    /// Hooks run only when the module is called as `module(x)` with one `Variable`; a module with its own
    /// `callAsFunction` of other arguments (token ids, several inputs) runs them for its submodules only.
    ///
    /// ```swift
    /// var activations: [String: Tensor] = [:]
    /// for (name, layer) in model.namedModules() {
    ///     layer.registerForwardHook { _, _, output in activations[name] = output.value; return nil }
    /// }
    /// ```
    @discardableResult
    public func registerForwardHook(_ hook: @escaping ForwardHook) -> HookHandle {
        let id = nextHookID()
        forwardHooks.append((id, hook))
        return HookHandle { [weak self] in self?.forwardHooks.removeAll { $0.id == id } }
    }

    /// A number no other hook of this module has.
    private func nextHookID() -> Int {
        Swift.max(forwardPreHooks.map(\.id).max() ?? -1, forwardHooks.map(\.id).max() ?? -1) + 1
    }

    /// ``forward(_:)`` between the pre-hooks and the hooks. The lists are copied first, so a hook that
    /// removes itself or registers another changes the next call, not this one.
    func runWithHooks(_ input: Variable) -> Variable {
        var x = input
        for (_, hook) in forwardPreHooks { x = hook(self, x) ?? x }
        var y = forward(x)
        for (_, hook) in forwardHooks { y = hook(self, x, y) ?? y }
        return y
    }
}
