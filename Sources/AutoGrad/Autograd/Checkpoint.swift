/// Runs `segment` on `inputs` without keeping its intermediate results, and runs it again during backward to
/// compute its gradients (PyTorch's `torch.utils.checkpoint.checkpoint`): memory for one segment's
/// activations is traded for a second forward pass.
///
/// ```swift
/// // Four blocks whose activations would not fit together: keep only each block's input.
/// var h = x
/// for block in blocks { h = checkpoint(h, parameters: block.parameters()) { block($0) } }
/// ```
///
/// `parameters` must list every variable that requires a gradient and that `segment` uses besides its inputs
/// (a module's weights): their gradients come from the recomputation. The output and every gradient equal those of
/// running `segment` directly. The global random generator (``RandomGenerator/global``, which `dropout` uses
/// by default) is set back to its state before the forward while the segment is recomputed, so dropout draws the
/// same masks; a segment that draws from another generator or changes state (batch-norm running statistics) must
/// be made deterministic by the caller.
///
/// The gradients of a checkpoint are not differentiable again: with `createGraph: true` they are constants.
///
/// - Precondition: `segment` returns a variable; its inputs and `parameters` are distinct variables.
public func checkpoint(_ inputs: [Variable], parameters: [Variable], _ segment: @escaping ([Variable]) -> Variable) -> Variable {
    let op = CheckpointOp(segment: segment, inputCount: inputs.count, randomState: RandomGenerator.global.stateWords)
    return op.apply(inputs + parameters)
}

/// ``checkpoint(_:parameters:_:)`` of a segment with one input.
public func checkpoint(_ input: Variable, parameters: [Variable], _ segment: @escaping (Variable) -> Variable) -> Variable {
    checkpoint([input], parameters: parameters) { segment($0[0]) }
}

/// The output of `segment`, recorded as one op whose backward recomputes the segment.
/// ∂/∂input and ∂/∂parameter: those of the recomputed segment.
struct CheckpointOp: Op {
    let segment: ([Variable]) -> Variable
    /// The first `inputCount` op inputs are the segment's inputs, the rest the parameters it captures.
    let inputCount: Int
    /// The global generator's state when the forward ran.
    let randomState: [UInt64]

    var name: String { "Checkpoint" }

    func forward(_ x: [Tensor]) -> Tensor {
        Graph.noGrad { segment(x.prefix(inputCount).map { Variable($0) }).value }
    }

    func backward(_ gradient: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        // Fresh leaves stand for the inputs, so the recomputation's graph ends here and not in the caller's.
        let leaves = inputs.prefix(inputCount).map { Variable($0.value, requiresGrad: $0.requiresGrad) }
        let parameters = Array(inputs.dropFirst(inputCount))
        let current = RandomGenerator.global.stateWords
        RandomGenerator.global.stateWords = randomState
        let recomputed = Graph.enableGrad { segment(leaves) }
        RandomGenerator.global.stateWords = current
        let targets = leaves + parameters
        let gradients = Graph.gradients(of: recomputed, withRespectTo: targets, seed: gradient.value)
        return zip(targets, gradients).map { target, g in target.requiresGrad ? Variable(g.value) : nil }
    }
}
