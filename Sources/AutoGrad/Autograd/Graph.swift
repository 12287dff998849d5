import Foundation
import Synchronization

private let sequenceCounter = Atomic<Int>(0)

/// Serialises accumulation into leaves' gradients, so that threads running backward through their own graphs over shared
/// parameters (one model, several threads) sum their gradients instead of racing on `gradVariable`. Only leaves are
/// touched under it — a few dozen per step — so it costs nothing measurable.
private let leafGradientLock = Mutex(())

/// Per-thread autograd settings.
private final class ThreadState {
    var isRecording = true
    var detectAnomalies = false
    /// Whether detection remembers the first anomaly instead of trapping (``Graph/withAnomalyRecording(_:)``).
    var recordAnomalies = false
    var firstAnomaly: String?
    /// The op whose backward formula is running, so that anomaly messages can name it.
    var inBackwardOf: String?
}

private let threadStateKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
        if let pointer { Unmanaged<AnyObject>.fromOpaque(pointer).release() }
    }
    return key
}()

private var threadState: ThreadState {
    if let p = pthread_getspecific(threadStateKey) {
        return Unmanaged<ThreadState>.fromOpaque(p).takeUnretainedValue()
    }
    let state = ThreadState()
    pthread_setspecific(threadStateKey, Unmanaged.passRetained(state).toOpaque())
    return state
}

/// The tape: records ops as they run and walks them backwards to compute gradients.
///
/// Every op applied while recording gets a record with a sequence number from one
/// process-wide counter. An op's inputs always exist before it runs, so they carry smaller
/// numbers: visiting the records reachable from the loss in decreasing sequence order is a valid
/// reverse topological order, and each record is visited after every record that consumes its
/// output, when its gradient is complete.
///
/// Backward runs only what leads to the gradients asked for (as tinygrad's `gradient.py` and PyTorch's
/// engine do): before the walk, each reachable record is told which of its inputs' gradients are
/// needed (see ``Op/backward(_:inputs:output:needed:)``). For ``Variable/backward(seed:retainGraph:createGraph:)``
/// that is every input that requires a gradient; for ``gradients(of:withRespectTo:seeds:retainGraph:createGraph:)``
/// only inputs on a path to a requested variable, so records that lead elsewhere are not run and
/// parameters that were not asked for get no gradient computed.
///
/// Recording is on by default and can be switched off for a scope with ``noGrad(_:)``; each thread
/// has its own setting.
public enum Graph {
    /// Whether ops applied on this thread are recorded.
    public static var isRecording: Bool { threadState.isRecording }

    /// Whether an op applied now to `inputs` is recorded: recording is on and an input requires a gradient. An
    /// op whose forward keeps buffers only for its backward asks this before it runs.
    public static func records(_ inputs: [Variable]) -> Bool {
        isRecording && inputs.contains(where: \.requiresGrad)
    }

    static func nextSequence() -> Int {
        sequenceCounter.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Runs `body` without recording (for evaluation and parameter updates), then restores the setting.
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        try withRecording(false, body)
    }

    /// Runs `body` with recording on, even inside ``noGrad(_:)``.
    public static func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
        try withRecording(true, body)
    }

    static func withRecording<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
        let state = threadState
        let saved = state.isRecording
        state.isRecording = on
        defer { state.isRecording = saved }
        return try body()
    }

    /// Runs `body` with NaN/Inf detection: the first op whose forward result, or whose backward
    /// gradient, holds a NaN or an infinity stops the program with a message naming that op.
    public static func withAnomalyDetection<R>(_ body: () throws -> R) rethrows -> R {
        let state = threadState
        let saved = state.detectAnomalies
        state.detectAnomalies = true
        defer { state.detectAnomalies = saved }
        return try body()
    }

    /// Runs `body` with NaN/Inf detection that does not stop the program: the first op whose forward
    /// result, or whose backward gradient, holds a NaN or an infinity is remembered in ``firstAnomaly``
    /// and computation goes on. A training loop can then stop at a non-finite loss with a message that
    /// says where the first bad value came from (`NonFiniteCheck` in Optim does).
    ///
    /// ``firstAnomaly`` is cleared on entry and when the outermost such scope ends. Each op's result is read once more, so this is a
    /// debugging aid, not for every run. Inside ``withAnomalyDetection(_:)`` the trap wins.
    public static func withAnomalyRecording<R>(_ body: () throws -> R) rethrows -> R {
        let state = threadState
        let saved = state.recordAnomalies
        state.recordAnomalies = true
        state.firstAnomaly = nil
        defer {
            state.recordAnomalies = saved
            if !saved { state.firstAnomaly = nil }
        }
        return try body()
    }

    /// The first non-finite value seen on this thread since ``withAnomalyRecording(_:)`` began (nil outside it), as
    /// "op <name> produced <value> at flat index <i> of shape <shape>" (with "in backward of <op>" for a
    /// gradient), or nil when there was none.
    public static var firstAnomaly: String? { threadState.firstAnomaly }

    static var anomalyCheck: ((String, Tensor) -> Void)? {
        let state = threadState
        let trap = state.detectAnomalies
        guard trap || (state.recordAnomalies && state.firstAnomaly == nil) else { return nil }
        let context = state.inBackwardOf.map { " in backward of \($0)" } ?? ""
        return { name, value in
            if let bad = value.doubles.firstIndex(where: { !$0.isFinite }) {
                let message = "op \(name)\(context) produced \(value.doubles[bad]) at flat index \(bad) of shape \(value.shape)"
                if trap { preconditionFailure("anomaly detection: " + message) }
                if state.firstAnomaly == nil { state.firstAnomaly = message }
            }
        }
    }

    // MARK: Backward

    /// Backpropagates from `roots` and accumulates gradients into every reachable leaf that requires one.
    static func backward(from roots: [Variable], seeds: [Tensor?], retainGraph: Bool, createGraph: Bool) {
        _ = run(roots: roots, seeds: seeds, targets: nil, retainGraph: retainGraph, createGraph: createGraph)
    }

    /// The gradients of `outputs` with respect to `inputs` (PyTorch's `torch.autograd.grad`).
    ///
    /// Leaves' ``Variable/grad`` are left untouched. An input that the outputs do not depend on gets
    /// a zero gradient. Only the ops on a path from `outputs` to `inputs` run their backward, and each
    /// computes only the input gradients on such a path: a gradient penalty's input gradient costs no
    /// weight gradients.
    ///
    /// - Parameters:
    ///   - outputs: the variables to differentiate.
    ///   - inputs: the variables to differentiate with respect to: leaves or intermediate results.
    ///   - seeds: ∂L/∂output for each output; may be omitted for one-element outputs (1 is used).
    ///   - retainGraph: keep the records for another backward (defaults to `createGraph`).
    ///   - createGraph: record the computation of the gradients so that they can be differentiated.
    public static func gradients(of outputs: [Variable], withRespectTo inputs: [Variable], seeds: [Tensor?]? = nil,
                                 retainGraph: Bool? = nil, createGraph: Bool = false) -> [Variable] {
        let seeds = seeds ?? Array(repeating: nil, count: outputs.count)
        let found = run(roots: outputs, seeds: seeds, targets: inputs,
                        retainGraph: retainGraph ?? createGraph, createGraph: createGraph)
        return inputs.map { input in
            found[ObjectIdentifier(input)] ?? Variable(Tensor.zeros(like: input.value))
        }
    }

    /// The gradient of one output with respect to `inputs`; see the overload for several outputs.
    ///
    /// ```swift
    /// let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
    /// let dx = Graph.gradients(of: x.pow(3).sum(), withRespectTo: [x])[0]   // 3x² = [3, 12]
    /// ```
    public static func gradients(of output: Variable, withRespectTo inputs: [Variable], seed: Tensor? = nil,
                                 retainGraph: Bool? = nil, createGraph: Bool = false) -> [Variable] {
        gradients(of: [output], withRespectTo: inputs, seeds: [seed], retainGraph: retainGraph, createGraph: createGraph)
    }

    /// The engine. With `targets` nil, leaf gradients accumulate into `Variable.grad`; otherwise the
    /// gradients of the targets are returned, keyed by the targets' identities.
    private static func run(roots: [Variable], seeds: [Tensor?], targets: [Variable]?,
                            retainGraph: Bool, createGraph: Bool) -> [ObjectIdentifier: Variable] {
        precondition(roots.count == seeds.count, "backward: \(roots.count) outputs but \(seeds.count) seeds")
        // Non-leaf targets are found through the record that produced them.
        var targetOfRecord: [ObjectIdentifier: ObjectIdentifier] = [:]
        var leafTargets: Set<ObjectIdentifier> = []
        for t in targets ?? [] {
            if let r = t.record { targetOfRecord[ObjectIdentifier(r)] = ObjectIdentifier(t) } else { leafTargets.insert(ObjectIdentifier(t)) }
        }
        var found: [ObjectIdentifier: Variable] = [:]
        var pending: [ObjectIdentifier: Variable] = [:]
        // A leaf's gradient for this pass is summed here and accumulated into `grad` when the pass is done with the
        // leaf, so that its hooks see the complete gradient once (see `finishLeaf`).
        var leafPending: [ObjectIdentifier: (leaf: Variable, gradient: Variable)] = [:]

        func deliver(_ gradient: Variable, to variable: Variable) {
            if let record = variable.record {
                let key = ObjectIdentifier(record)
                pending[key] = pending[key].map { $0 + gradient } ?? gradient
            } else if targets != nil {
                let key = ObjectIdentifier(variable)
                guard leafTargets.contains(key) else { return }
                found[key] = found[key].map { $0 + gradient } ?? gradient
            } else if variable.requiresGrad {
                let key = ObjectIdentifier(variable)
                leafPending[key] = (variable, leafPending[key].map { $0.gradient + gradient } ?? gradient)
            }
        }

        /// Runs the leaf's gradient hooks on its gradient for this pass, adds the result into `grad`, then runs its
        /// post-accumulate hooks.
        func finishLeaf(_ key: ObjectIdentifier) {
            guard let (leaf, gradient) = leafPending.removeValue(forKey: key) else { return }
            Graph.withRecording(createGraph) {
                let hooked = leaf.hooks?.applyGradientHooks(gradient) ?? gradient
                leafGradientLock.withLock { _ in
                    leaf.gradVariable = leaf.gradVariable.map { $0 + hooked } ?? hooked
                }
                for entry in leaf.hooks?.postAccumulate ?? [] { entry.hook(leaf) }
            }
        }

        Graph.withRecording(createGraph) {
            for (root, seed) in zip(roots, seeds) {
                let seedValue: Tensor
                if let seed {
                    precondition(seed.shape == root.shape, "backward: seed of shape \(seed.shape) for output of shape \(root.shape)")
                    seedValue = seed.to(root.dtype)
                } else {
                    precondition(root.value.count == 1,
                                 "backward: output of shape \(root.shape) is not a scalar; pass a seed gradient of that shape")
                    seedValue = Tensor.ones(root.shape, dtype: root.dtype)
                }
                precondition(root.requiresGrad, "backward: the output does not require a gradient (no input requires one, or it was computed under noGrad)")
                deliver(Variable(seedValue), to: root)
            }
        }

        let records = reachableRecords(from: roots)
        let masks = neededInputs(of: records, requested: targets == nil ? nil : (leafTargets, Set(targetOfRecord.keys)))
        let leavesDone = targets == nil ? leavesFinished(by: records, masks: masks) : [:]
        for (index, (record, needed)) in zip(records, masks).enumerated() {
            defer { for leaf in leavesDone[index] ?? [] { finishLeaf(leaf) } }
            let key = ObjectIdentifier(record)
            guard var gradient = pending.removeValue(forKey: key) else {
                // Reachable but given no gradient (every consumer returned nil for it, or none needed it):
                // its subgraph is consumed all the same, so free it like the others.
                if !retainGraph { record.release() }
                continue
            }
            if let hooks = record.hooks {
                gradient = Graph.withRecording(createGraph) { hooks.applyGradientHooks(gradient) }
            }
            if let target = targetOfRecord[key] { found[target] = gradient }
            guard needed.contains(true) else {
                // Leads to nothing requested (an output or a requested intermediate that does not depend on the
                // requested variables): its backward is not run.
                if !retainGraph { record.release() }
                continue
            }
            guard let outputValue = record.outputValue else {
                preconditionFailure("backward: the graph through op \(record.op.name) was freed by an earlier backward; pass retainGraph: true to the first backward to go through it twice")
            }
            let inputs = record.inputs
            let output = Variable(value: outputValue, record: createGraph ? record : nil)
            Graph.withRecording(createGraph) {
                let state = threadState
                let enclosing = state.inBackwardOf
                state.inBackwardOf = record.op.name
                let gradients = record.op.backward(gradient, inputs: inputs, output: output, needed: needed)
                state.inBackwardOf = enclosing
                precondition(gradients.count == inputs.count,
                             "backward of \(record.op.name): \(gradients.count) gradients for \(inputs.count) inputs")
                for (i, (input, g)) in zip(inputs, gradients).enumerated() where needed[i] {
                    guard let g else { continue }
                    if let check = anomalyCheck { check("backward of \(record.op.name)", g.value) }
                    deliver(reduceToShape(g, input.shape, op: record.op.name), to: input)
                }
            }
            if !retainGraph { record.release() }
        }
        // Leaves that no record consumed: roots themselves.
        for root in roots where root.isLeaf { finishLeaf(ObjectIdentifier(root)) }
        for t in targets ?? [] where t.isLeaf {
            let key = ObjectIdentifier(t)
            if let hooks = t.hooks, let g = found[key] {
                found[key] = Graph.withRecording(createGraph) { hooks.applyGradientHooks(g) }
            }
        }
        return found
    }

    /// For each position in `records` (latest first), the leaves whose last needed use on this walk is that record:
    /// after it, no more gradient reaches them in this pass.
    private static func leavesFinished(by records: [Record], masks: [[Bool]]) -> [Int: [ObjectIdentifier]] {
        var last: [ObjectIdentifier: Int] = [:]
        for (index, (record, needed)) in zip(records, masks).enumerated() {
            for (input, isNeeded) in zip(record.inputs, needed) where isNeeded && input.isLeaf {
                last[ObjectIdentifier(input)] = index
            }
        }
        // In input order, so that hooks run in an order that does not depend on hashing.
        var byRecord: [Int: [ObjectIdentifier]] = [:]
        for (index, record) in records.enumerated() {
            for input in record.inputs where input.isLeaf {
                let key = ObjectIdentifier(input)
                if last[key] == index {
                    last[key] = nil
                    byRecord[index, default: []].append(key)
                }
            }
        }
        return byRecord
    }

    /// Sums a gradient of the broadcast shape back to an input's shape: the one place broadcasting is undone.
    private static func reduceToShape(_ gradient: Variable, _ shape: [Int], op: String) -> Variable {
        if gradient.shape == shape { return gradient }
        precondition(Broadcasting.shape(shape, gradient.shape) == gradient.shape,
                     "backward of \(op): gradient of shape \(gradient.shape) does not reduce to input shape \(shape)")
        return gradient.sum(toShape: shape)
    }

    /// For each of `records` (latest first), which of its inputs' gradients are needed.
    ///
    /// Without `requested` (plain backward) that is every input that requires a gradient. With it, an input is
    /// needed when it requires a gradient and is a requested leaf or was made by a record that leads to a
    /// requested variable: a record leads to one when it made a requested variable or one of its inputs is
    /// needed. Inputs' records come earlier on the tape, so one pass from the earliest record decides all.
    private static func neededInputs(of records: [Record],
                                     requested: (leaves: Set<ObjectIdentifier>, records: Set<ObjectIdentifier>)?) -> [[Bool]] {
        guard let requested else { return records.map { $0.inputs.map(\.requiresGrad) } }
        var leading: Set<ObjectIdentifier> = []
        var masks = [[Bool]](repeating: [], count: records.count)
        for i in records.indices.reversed() {
            let record = records[i]
            masks[i] = record.inputs.map { input in
                guard input.requiresGrad else { return false }
                if let r = input.record { return leading.contains(ObjectIdentifier(r)) }
                return requested.leaves.contains(ObjectIdentifier(input))
            }
            let key = ObjectIdentifier(record)
            if masks[i].contains(true) || requested.records.contains(key) { leading.insert(key) }
        }
        return masks
    }

    /// The records reachable from `roots` through inputs that require gradients, latest first.
    private static func reachableRecords(from roots: [Variable]) -> [Record] {
        var seen: Set<ObjectIdentifier> = []
        var stack: [Record] = []
        var records: [Record] = []
        for root in roots {
            if let r = root.record, seen.insert(ObjectIdentifier(r)).inserted { stack.append(r) }
        }
        while let record = stack.popLast() {
            if record.isReleased {
                preconditionFailure("backward: the graph through op \(record.op.name) was freed by an earlier backward; pass retainGraph: true to the first backward to go through it twice")
            }
            records.append(record)
            for input in record.inputs where input.requiresGrad {
                if let r = input.record, seen.insert(ObjectIdentifier(r)).inserted { stack.append(r) }
            }
        }
        records.sort { $0.sequence > $1.sequence }
        return records
    }
}
