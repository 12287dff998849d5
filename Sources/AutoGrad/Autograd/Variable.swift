/// A node of the autograd graph: a ``Tensor`` value, whether it wants a gradient, its accumulated
/// gradient, and the record of the op that produced it (none for leaves).
///
/// ```swift
/// let w = Variable(Tensor.randn([3, 2]), requiresGrad: true)
/// let x = Variable(Tensor.ones([4, 3]))
/// let loss = (x.matmul(w)).relu().sum()
/// loss.backward()
/// print(w.grad!)     // ∂loss/∂w, shape [3, 2]
/// ```
///
/// ## Threads
///
/// Recording is per thread, so several threads may run forward and backward passes at once over shared parameters
/// (one model, a batch per thread): reading a variable is safe from any thread, and the gradients the threads' backward
/// passes deliver to a shared leaf are summed under a lock. What is not safe is changing a variable — its `value`,
/// `requiresGrad` or `grad` (an optimiser step, `zeroGrad()`) — while another thread uses it, or running two backward
/// passes through the same recorded graph at once: finish the threads' passes, then step the optimiser on one thread.
public final class Variable {
    /// The value. Optimisers replace a parameter's value in place between steps.
    ///
    /// Records keep their input variables, not copies of the values (only an op's own output is kept
    /// as a tensor), so replacing a value between a forward pass and its backward changes the
    /// gradients that backward computes from it: update parameters after backward.
    public var value: Tensor
    /// Whether gradients flow to this variable. Set on leaves (parameters, inputs of interest);
    /// for results of ops it is true when any input requires a gradient.
    public var requiresGrad: Bool {
        didSet {
            precondition(record == nil || requiresGrad, "requiresGrad: cannot switch off on a non-leaf variable; use detach()")
        }
    }
    /// The accumulated gradient as a variable (connected to a graph when backward ran with `createGraph`).
    public var gradVariable: Variable?
    /// Set once at creation; cleared only by ``Record``'s deinit while it unlinks a dying chain.
    var record: Record?
    /// A leaf's gradient hooks (a non-leaf's live on its record); nil until one is registered.
    var hooks: GradientHooks?

    /// A leaf variable.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.record = nil
    }

    init(value: Tensor, record: Record?) {
        self.value = value
        self.record = record
        self.requiresGrad = record != nil
    }

    /// The accumulated gradient ∂L/∂self, or nil before any backward reached this variable.
    public var grad: Tensor? {
        get { gradVariable?.value }
        set { gradVariable = newValue.map { Variable($0) } }
    }

    /// Whether this variable was made by the user rather than by an op.
    public var isLeaf: Bool { record == nil }
    /// The shape of the value.
    public var shape: [Int] { value.shape }
    /// The rank of the value.
    public var rank: Int { value.rank }
    /// The dtype of the value.
    public var dtype: DType { value.dtype }
    /// The name of the op that produced this variable, or nil for a leaf.
    public var opName: String? { record?.op.name }

    /// The same value, cut from the graph: no gradient flows through the result.
    public func detach() -> Variable { Variable(value) }

    /// Forgets the accumulated gradient.
    public func zeroGrad() { gradVariable = nil }

    /// Runs `op` on the values and records it when recording is on and an input requires a gradient.
    static func apply(_ op: some Op, _ inputs: [Variable]) -> Variable {
        let output = op.forward(inputs.map(\.value))
        if let check = Graph.anomalyCheck { check(op.name, output) }
        guard Graph.records(inputs) else {
            return Variable(output)
        }
        let record = Record(op: op, inputs: inputs, output: output, sequence: Graph.nextSequence())
        return Variable(value: output, record: record)
    }

    /// Backpropagates from this variable: accumulates ∂self/∂leaf into every leaf's ``grad``.
    ///
    /// - Parameters:
    ///   - seed: ∂L/∂self; may be omitted only when `self` has one element (it is then 1).
    ///   - retainGraph: keep the records so that backward can run through them again.
    ///   - createGraph: record the backward pass itself, so gradients can be differentiated again.
    /// - Precondition: the graph was not freed by an earlier backward without `retainGraph`.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        Graph.backward(from: [self], seeds: [seed], retainGraph: retainGraph || createGraph, createGraph: createGraph)
    }
}

extension Variable: CustomStringConvertible {
    /// The value followed by the producing op's name, or by `requiresGrad: true` for such a leaf.
    public var description: String {
        let origin = record.map { ", op: \($0.op.name)" } ?? (requiresGrad ? ", requiresGrad: true" : "")
        return "Variable(\(value)\(origin))"
    }
}
