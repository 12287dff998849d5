/// A function called with a variable's gradient for one backward pass, once that gradient is complete; it may return a
/// replacement (PyTorch's `Tensor.register_hook`). See ``Variable/registerHook(_:)``.
public typealias GradientHook = (Variable) -> Variable?

/// A function called with a leaf after backward accumulated this pass's gradient into its ``Variable/grad``
/// (PyTorch's `register_post_accumulate_grad_hook`). See ``Variable/registerPostAccumulateGradHook(_:)``.
public typealias PostAccumulateGradHook = (Variable) -> Void

/// The hooks registered on one variable (kept by a leaf itself, by the record of a non-leaf), in registration order.
final class GradientHooks {
    private(set) var gradient: [(id: Int, hook: GradientHook)] = []
    private(set) var postAccumulate: [(id: Int, hook: PostAccumulateGradHook)] = []
    private var nextID = 0

    func add(_ hook: @escaping GradientHook) -> Int {
        defer { nextID += 1 }
        gradient.append((nextID, hook))
        return nextID
    }

    func add(postAccumulate hook: @escaping PostAccumulateGradHook) -> Int {
        defer { nextID += 1 }
        postAccumulate.append((nextID, hook))
        return nextID
    }

    func remove(_ id: Int) {
        gradient.removeAll { $0.id == id }
        postAccumulate.removeAll { $0.id == id }
    }

    /// `gradient` passed through every gradient hook in turn; a hook that returns nil leaves it as it was.
    func applyGradientHooks(_ gradient: Variable) -> Variable {
        self.gradient.reduce(gradient) { g, entry in entry.hook(g) ?? g }
    }
}

/// Removes a hook registered with ``Variable/registerHook(_:)`` or ``Variable/registerPostAccumulateGradHook(_:)``.
///
/// Dropping the handle does not remove the hook: it stays registered for as long as its variable lives.
public struct GradientHookHandle {
    private weak var hooks: GradientHooks?
    private let id: Int

    init(hooks: GradientHooks, id: Int) {
        self.hooks = hooks
        self.id = id
    }

    /// Unregisters the hook; later backward passes no longer call it. Removing twice does nothing.
    public func remove() { hooks?.remove(id) }
}

extension Variable {
    /// Registers `hook`, called during each backward pass with this variable's gradient for that pass once it is
    /// complete — the sum of every path's contribution — and before it is used (PyTorch's `Tensor.register_hook`).
    ///
    /// For a leaf the hook runs before the pass's gradient is added into ``grad``; for the result of an op, before
    /// that op's backward consumes it. A hook that returns a variable replaces the gradient (of the same shape) for
    /// everything downstream — accumulation, later hooks, earlier ops; one that returns nil only observes. Hooks run
    /// in registration order on the thread that runs backward, with recording on only under `createGraph`.
    /// ``Graph/gradients(of:withRespectTo:seeds:retainGraph:createGraph:)`` runs the hooks of the variables on the
    /// paths it walks and of the leaves it returns.
    ///
    /// ```swift
    /// let w = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
    /// w.registerHook { g in g * 2 }      // doubles every gradient w receives
    /// (w * w).sum().backward()           // w.grad == [4, 8]
    /// ```
    ///
    /// - Precondition: the variable requires a gradient.
    @discardableResult
    public func registerHook(_ hook: @escaping GradientHook) -> GradientHookHandle {
        precondition(requiresGrad, "registerHook: the variable does not require a gradient, so no hook would ever run")
        let hooks = gradientHooks
        return GradientHookHandle(hooks: hooks, id: hooks.add(hook))
    }

    /// Registers `hook`, called with this leaf after each backward pass has added its gradient into ``grad`` — once
    /// per pass, when no op of that pass will deliver more to it (PyTorch's `register_post_accumulate_grad_hook`).
    ///
    /// Leaves finish in the order backward stops needing them, which for a network is roughly the reverse of the
    /// order its parameters were used in: a data-parallel trainer starts communicating a layer's gradients while
    /// backward still runs through the layers before it. Hooks run in registration order on the thread that runs
    /// backward. ``Graph/gradients(of:withRespectTo:seeds:retainGraph:createGraph:)`` accumulates nothing and so
    /// calls none.
    ///
    /// - Precondition: the variable is a leaf that requires a gradient.
    @discardableResult
    public func registerPostAccumulateGradHook(_ hook: @escaping PostAccumulateGradHook) -> GradientHookHandle {
        precondition(isLeaf && requiresGrad,
                     "registerPostAccumulateGradHook: only a leaf that requires a gradient accumulates one")
        let hooks = gradientHooks
        return GradientHookHandle(hooks: hooks, id: hooks.add(postAccumulate: hook))
    }

    /// The hook list of this variable — its own for a leaf, its record's otherwise — made on first use.
    private var gradientHooks: GradientHooks {
        if let record {
            if record.hooks == nil { record.hooks = GradientHooks() }
            return record.hooks!
        }
        if hooks == nil { hooks = GradientHooks() }
        return hooks!
    }
}
