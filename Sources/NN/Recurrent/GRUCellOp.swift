import AutoGrad

/// The gate arithmetic of one GRU step, fused: from the input and hidden parts of the gate pre-activations and the
/// previous hidden state to the new hidden state (PyTorch's `nn.GRU` formula).
///
/// With `xg = [x_r, x_z, x_n] = x·W_ihᵀ + b_ih` and `hg = [h_r, h_z, h_n] = hPrev·W_hhᵀ + b_hh` (gate order r, z, n,
/// each `H` wide): `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)`, `h = (1 − z)·n + z·hPrev`.
/// The hidden part enters `n` through `r`, which is why the two parts are separate inputs.
///
/// Gradients, with `g = ∂L/∂h` and `∂n̂ = g·(1 − z)·(1 − n²)` (the gradient of `n`'s pre-activation):
/// `∂x_n = ∂n̂`, `∂h_n = ∂n̂·r`, `∂x_r = ∂h_r = ∂n̂·h_n·σ'`, `∂x_z = ∂h_z = g·(hPrev − n)·σ'`, `∂hPrev = g·z`
/// (`σ' = σ(1 − σ)` of the gate concerned). The forward and a plain backward are single sweeps; a recorded backward
/// (`createGraph: true`) is built from differentiable ops, so second-order gradients work.
///
/// Shapes: `inputGates` and `hiddenGates` `[*, 3H]`, `hidden` `[*, H]` with the same leading dimensions; the result
/// is `[*, H]`, in the promoted dtype of the inputs.
///
/// - Precondition: both gate tensors have `hidden.shape` with the last dimension three times as large.
public func gruCell(inputGates: Variable, hiddenGates: Variable, hidden: Variable) -> Variable {
    precondition(hidden.rank >= 1 && inputGates.shape == hiddenGates.shape && inputGates.rank == hidden.rank
                 && inputGates.shape.dropLast() == hidden.shape.dropLast() && inputGates.shape.last! == 3 * hidden.shape.last!,
                 "gruCell: gates of shapes \(inputGates.shape) and \(hiddenGates.shape) do not match hidden state of shape \(hidden.shape) (want [*, 3H] and [*, H])")
    return GRUCellOp().apply([inputGates, hiddenGates, hidden])
}

/// ``gruCell(inputGates:hiddenGates:hidden:)`` as an op: inputs `xg` and `hg` `[*, 3H]` and `hPrev` `[*, H]`, output
/// `[*, H]`. The forward keeps the gate activations `[r, z, n]` for the fused backward.
final class GRUCellOp: FusedBackwardOp {
    var name: String { "GRUCell" }

    /// `[r, z, n]`, set by ``forward(_:)``.
    private var activations = Tensor.zeros([0])

    func forward(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 3, "\(name): expected input gates, hidden gates and hidden state, got \(inputs.count) inputs")
        let dtype = inputs.dropFirst().map(\.dtype).reduce(inputs[0].dtype, DType.promoted)
        let xg = inputs[0].to(dtype), hg = inputs[1].to(dtype), hPrev = inputs[2].to(dtype)
        let n = hPrev.shape.last!, rows = n == 0 ? 0 : hPrev.count / n
        var out = Tensor.empty(hPrev.shape, dtype: dtype)
        activations = Tensor.empty(xg.shape, dtype: dtype)
        guard rows > 0 else { return out }
        func run<S: TensorScalar>(_: S.Type) {
            xg.withUnsafeBufferPointer(as: S.self) { x in
                hg.withUnsafeBufferPointer(as: S.self) { h in
                    hPrev.withUnsafeBufferPointer(as: S.self) { hp in
                        activations.withUnsafeMutableBufferPointer(as: S.self) { act in
                            out.withUnsafeMutableBufferPointer(as: S.self) { o in
                                GateKernels.gruForward(xg: x.baseAddress!, hg: h.baseAddress!, hPrev: hp.baseAddress!, rows: rows,
                                                       hidden: n, activations: act.baseAddress!, h: o.baseAddress!, hStride: n)
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
        let hg = inputs[1].value.to(dtype), hPrev = inputs[2].value.to(dtype), g = g.value.to(dtype)
        let n = hPrev.shape.last!, rows = n == 0 ? 0 : hPrev.count / n
        var dXg = Tensor.zeros(hg.shape, dtype: dtype), dHg = dXg, dHPrev = Tensor.zeros(hPrev.shape, dtype: dtype)
        func run<S: TensorScalar>(_: S.Type) {
            g.withUnsafeBufferPointer(as: S.self) { g in
                activations.withUnsafeBufferPointer(as: S.self) { act in
                    hg.withUnsafeBufferPointer(as: S.self) { h in
                        hPrev.withUnsafeBufferPointer(as: S.self) { hp in
                            dXg.withUnsafeMutableBufferPointer(as: S.self) { dx in
                                dHg.withUnsafeMutableBufferPointer(as: S.self) { dh in
                                    dHPrev.withUnsafeMutableBufferPointer(as: S.self) { dhp in
                                        GateKernels.gruBackward(gh: g.baseAddress!, ghStride: n, activations: act.baseAddress!,
                                                                hg: h.baseAddress!, hPrev: hp.baseAddress!, rows: rows, hidden: n,
                                                                dXg: dx.baseAddress!, dHg: dh.baseAddress!, dHPrev: dhp.baseAddress!)
                                    }
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
        return [needed[0] ? Variable(dXg.to(inputs[0].dtype)) : nil, needed[1] ? Variable(dHg.to(inputs[1].dtype)) : nil,
                needed[2] ? Variable(dHPrev.to(inputs[2].dtype)) : nil]
    }

    /// The same gradients from differentiable ops on the inputs and `g` (activations recomputed).
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let xg = inputs[0], hg = inputs[1], hPrev = inputs[2], n = hPrev.shape.last!, axis = xg.rank - 1
        let part = { (v: Variable, k: Int) in v.sliced(axis: axis, start: k * n, end: (k + 1) * n) }
        let r = (part(xg, 0) + part(hg, 0)).sigmoid(), z = (part(xg, 1) + part(hg, 1)).sigmoid()
        let hn = part(hg, 2), nt = (part(xg, 2) + r * hn).tanh()
        let dn = g * (1 - z) * (1 - nt.squared())
        let dr = dn * hn * r * (1 - r), dz = g * (hPrev - nt) * z * (1 - z)
        return [needed[0] ? Variable.concatenate([dr, dz, dn], axis: axis) : nil,
                needed[1] ? Variable.concatenate([dr, dz, dn * r], axis: axis) : nil,
                needed[2] ? g * z : nil]
    }
}
