/// An op whose backward has two forms: a fused closed form on tensors, for plain backward passes, and the same
/// gradients composed from differentiable ops, which a recorded backward (`createGraph`, gradient penalties)
/// differentiates again. BatchNorm's and the row normalisations' ops share this dispatch.
protocol FusedBackwardOp: Op {
    /// The needed inputs' gradients by the fused kernels, in `dtype`; not recorded.
    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?]

    /// The needed inputs' gradients as differentiable ops, recorded when the graph records.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?]
}

extension FusedBackwardOp {
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// The recorded form while the graph records (a backward with `createGraph`), else the fused one.
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        Graph.isRecording ? differentiableBackward(g, inputs: inputs, needed: needed)
                          : fusedBackward(g, inputs: inputs, needed: needed, dtype: output.dtype)
    }
}
