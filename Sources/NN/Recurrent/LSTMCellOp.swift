import AutoGrad

/// The gate arithmetic of one LSTM step, fused: from the gate pre-activations to the new hidden and cell states.
///
/// With `gates = [aᵢ, a_f, a_g, a_o]` (PyTorch's gate order i, f, g, o, each `H` wide):
/// `c = σ(a_f)·cPrev + σ(aᵢ)·tanh(a_g)` and `h = σ(a_o)·tanh(c)`.
/// The gate pre-activations are what an LSTM layer computes as `x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh`.
///
/// Gradients, with `δc = ∂L/∂c + ∂L/∂h·σ(a_o)·(1 − tanh²c)`:
/// `∂aᵢ = δc·tanh(a_g)·σ'(aᵢ)`, `∂a_f = δc·cPrev·σ'(a_f)`, `∂a_g = δc·σ(aᵢ)·(1 − tanh²a_g)`,
/// `∂a_o = ∂L/∂h·tanh(c)·σ'(a_o)`, `∂cPrev = δc·σ(a_f)`, with `σ' = σ(1 − σ)`. The forward and a plain backward are
/// single sweeps; a recorded backward (`createGraph: true`) is built from differentiable ops, so second-order
/// gradients work.
///
/// Shapes: `gates` `[*, 4H]`, `cell` `[*, H]` with the same leading dimensions; `h` and `c` are `[*, H]`, in the
/// promoted dtype of the inputs.
///
/// - Precondition: `gates.shape` is `cell.shape` with the last dimension four times as large.
public func lstmCell(gates: Variable, cell: Variable) -> (h: Variable, c: Variable) {
    precondition(gates.rank >= 1 && cell.rank == gates.rank && gates.shape.dropLast() == cell.shape.dropLast()
                 && gates.shape.last! == 4 * cell.shape.last!,
                 "lstmCell: gates of shape \(gates.shape) do not match cell state of shape \(cell.shape) (want [*, 4H] and [*, H])")
    let packed = LSTMCellOp().apply([gates, cell])
    return (unpacked(packed, part: 0), unpacked(packed, part: 1))
}

/// Part `part` of an op output that packs several same-shaped results along a new first axis.
func unpacked(_ packed: Variable, part: Int) -> Variable {
    packed.sliced(axis: 0, start: part, end: part + 1).reshaped(Array(packed.shape.dropFirst()))
}

/// ``lstmCell(gates:cell:)`` as an op: inputs `gates` `[*, 4H]` and `cPrev` `[*, H]`, output `[2, *, H]` holding `h`
/// then `c`. The forward keeps the gate activations and `tanh c` for the fused backward.
final class LSTMCellOp: FusedBackwardOp {
    var name: String { "LSTMCell" }

    /// `[σ(aᵢ), σ(a_f), tanh(a_g), σ(a_o)]` and `tanh c`, set by ``forward(_:)``.
    private var activations = Tensor.zeros([0]), tanhC = Tensor.zeros([0])

    func forward(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 2, "\(name): expected gates and cell state, got \(inputs.count) inputs")
        let dtype = DType.promoted(inputs[0].dtype, inputs[1].dtype)
        let gates = inputs[0].to(dtype), cPrev = inputs[1].to(dtype)
        let n = cPrev.shape.last!, rows = n == 0 ? 0 : cPrev.count / n
        var out = Tensor.empty([2] + cPrev.shape, dtype: dtype)
        activations = Tensor.empty(gates.shape, dtype: dtype)
        tanhC = Tensor.empty(cPrev.shape, dtype: dtype)
        guard rows > 0 else { return out }
        func run<S: TensorScalar>(_: S.Type) {
            gates.withUnsafeBufferPointer(as: S.self) { a in
                cPrev.withUnsafeBufferPointer(as: S.self) { cp in
                    activations.withUnsafeMutableBufferPointer(as: S.self) { act in
                        tanhC.withUnsafeMutableBufferPointer(as: S.self) { tc in
                            out.withUnsafeMutableBufferPointer(as: S.self) { o in
                                GateKernels.lstmForward(gates: a.baseAddress!, input: nil, cPrev: cp.baseAddress!, rows: rows, hidden: n,
                                                        activations: act.baseAddress!, tanhC: tc.baseAddress!,
                                                        h: o.baseAddress!, hStride: n, c: o.baseAddress! + rows * n, cStride: n)
                            }
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
        return out
    }

    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        let cPrev = inputs[1].value.to(dtype), g = g.value.to(dtype)
        let n = cPrev.shape.last!, rows = n == 0 ? 0 : cPrev.count / n
        var dGates = Tensor.zeros(inputs[0].shape, dtype: dtype), dCPrev = Tensor.zeros(cPrev.shape, dtype: dtype)
        func run<S: TensorScalar>(_: S.Type) {
            g.withUnsafeBufferPointer(as: S.self) { g in
                activations.withUnsafeBufferPointer(as: S.self) { act in
                    tanhC.withUnsafeBufferPointer(as: S.self) { tc in
                        cPrev.withUnsafeBufferPointer(as: S.self) { cp in
                            dGates.withUnsafeMutableBufferPointer(as: S.self) { dg in
                                dCPrev.withUnsafeMutableBufferPointer(as: S.self) { dc in
                                    GateKernels.lstmBackward(gh: g.baseAddress!, ghStride: n, gc: g.baseAddress! + rows * n, gcStride: n,
                                                             activations: act.baseAddress!, tanhC: tc.baseAddress!, cPrev: cp.baseAddress!,
                                                             rows: rows, hidden: n, dGates: dg.baseAddress!,
                                                             dCPrev: dc.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        if rows > 0 {
            switch dtype {
            case .float32: run(Float.self)
            case .float64: run(Double.self)
            }
        }
        return [needed[0] ? Variable(dGates.to(inputs[0].dtype)) : nil, needed[1] ? Variable(dCPrev.to(inputs[1].dtype)) : nil]
    }

    /// The same gradients from differentiable ops on `gates`, `cPrev` and `g` (activations recomputed).
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let gates = inputs[0], cPrev = inputs[1], n = cPrev.shape.last!, axis = gates.rank - 1
        let gate = { (k: Int) in gates.sliced(axis: axis, start: k * n, end: (k + 1) * n) }
        let i = gate(0).sigmoid(), f = gate(1).sigmoid(), cand = gate(2).tanh(), o = gate(3).sigmoid()
        let tc = (f * cPrev + i * cand).tanh()
        let gh = unpacked(g, part: 0), gc = unpacked(g, part: 1)
        let dc = gc + gh * o * (1 - tc.squared())
        let dGates = needed[0]
            ? Variable.concatenate([dc * cand * i * (1 - i), dc * cPrev * f * (1 - f), dc * i * (1 - cand.squared()),
                                    gh * tc * o * (1 - o)], axis: axis)
            : nil
        return [dGates, needed[1] ? dc * f : nil]
    }
}
