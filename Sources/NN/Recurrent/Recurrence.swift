import AutoGrad

/// Which step a recurrence runs: a plain RNN with its nonlinearity, an LSTM or a GRU.
enum RecurrenceKind: Equatable, Sendable {
    case rnn(RNNNonlinearity), lstm, gru

    /// The number of `H`-wide gate blocks in `W_ih` and `W_hh`.
    var gates: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

/// One layer and direction of a recurrent layer over a whole sequence, as one op.
///
/// `projected` (`[T, B, G·H]`) is the input projection `x·W_ihᵀ + b_ih` of every step, computed by the caller as one
/// product (for the RNN and LSTM it also holds `b_hh`, which only adds). Each step then runs one product
/// `h_{t−1}·W_hhᵀ` straight into its gate buffer and the fused gate arithmetic of ``GateKernels``; the reverse
/// direction walks `t` from `T − 1` down to 0. The backward walks the steps the other way with one product per step
/// for `∂h_{t−1}`, and then computes `∂W_hh = Σₜ ∂gatesₜᵀ·h_{t−1}` as one product over all steps.
///
/// Returns every step's `h` (`[T, B, H]`, in time order), the final `h` and, for the LSTM, the final `c` (`[B, H]`).
/// A backward that is recorded (`createGraph: true`) differentiates the same recurrence rebuilt from the step ops
/// (``lstmCell(gates:cell:)``, ``gruCell(inputGates:hiddenGates:hidden:)``), so second-order gradients work.
func recurrence(_ kind: RecurrenceKind, projected: Variable, weightHH: Variable, biasHH: Variable?, h0: Variable,
                c0: Variable?, reverse: Bool) -> (output: Variable, h: Variable, c: Variable?) {
    let t = projected.shape[0]
    precondition(t > 0, "\(kind): the sequence is empty (input of length 0)")
    var inputs = [projected, weightHH, h0]
    if kind == .lstm, let c0 { inputs.append(c0) }
    if kind == .gru, let biasHH { inputs.append(biasHH) }
    let packed = RecurrenceOp(kind: kind, reverse: reverse, keepsForBackward: Graph.records(inputs)).apply(inputs)
    let output = kind == .lstm ? packed.sliced(axis: 0, start: 0, end: t) : packed
    let last = reverse ? 0 : t - 1
    return (output, unpacked(packed, part: last), kind == .lstm ? unpacked(packed, part: t) : nil)
}

/// ``recurrence(_:projected:weightHH:biasHH:h0:c0:reverse:)`` as an op. Inputs: `projected` `[T, B, G·H]`, `W_hh`
/// `[G·H, H]`, `h0` `[B, H]`, then `c0` `[B, H]` (LSTM) or `b_hh` `[3H]` (GRU with biases). Output `[T, B, H]`, the
/// `h` of every step, with the final `c` appended as row `T` for the LSTM (`[T + 1, B, H]`).
final class RecurrenceOp: FusedBackwardOp {
    var name: String {
        switch kind {
        case .rnn(let f): return f == .tanh ? "RNN" : "RNNReLU"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    let kind: RecurrenceKind
    let reverse: Bool
    /// Whether the forward keeps what the backward reads (the op is recorded). Without it, the LSTM keeps only the
    /// current cell state and the GRU one step's gates, as inference needs.
    let keepsForBackward: Bool
    /// The output of ``forward(_:)`` and what the backward needs besides it: the gate activations of every step
    /// (LSTM, GRU), then `tanh cₜ` and `cₜ` (LSTM) or the hidden projections `h_{t−1}·W_hhᵀ + b_hh` (GRU). The LSTM's
    /// gate buffer for the step being computed follows.
    private var output = Tensor.zeros([0]), saved = Tensor.zeros([0])

    init(kind: RecurrenceKind, reverse: Bool, keepsForBackward: Bool = true) {
        self.kind = kind
        self.reverse = reverse
        self.keepsForBackward = keepsForBackward
    }

    /// The sizes `T`, `B`, `H` and the gate width `G·H`.
    private struct Sizes {
        let steps: Int, batch: Int, hidden: Int, width: Int
        var state: Int { batch * hidden }
        /// The step whose state step `t` starts from, or nil for the initial state.
        func previous(_ t: Int, reverse: Bool) -> Int? {
            reverse ? (t == steps - 1 ? nil : t + 1) : (t == 0 ? nil : t - 1)
        }
        /// The elements of the LSTM's ``LSTMBuffers``.
        func lstmSavedCount(keeping: Bool) -> Int {
            (keeping ? steps * batch * width + 2 * steps * state : state) + batch * width
        }
    }

    /// Where the LSTM's forward keeps its state in `saved`. Kept for the backward: every step's activations
    /// (`[T, B, 4H]`), `tanh cₜ` and `cₜ` (`[T, B, H]` each). For inference: one cell state. The gate
    /// buffer of the current step (`[B, 4H]`) follows either way.
    private struct LSTMBuffers<S> {
        let activations: UnsafeMutablePointer<S>?, tanhC: UnsafeMutablePointer<S>?
        let cells: UnsafeMutablePointer<S>, gates: UnsafeMutablePointer<S>, state: Int

        init(_ saved: UnsafeMutablePointer<S>, _ s: Sizes, keeping: Bool) {
            state = s.state
            if keeping {
                activations = saved
                tanhC = saved + s.steps * s.batch * s.width
                cells = tanhC! + s.steps * s.state
                gates = cells + s.steps * s.state
            } else {
                (activations, tanhC, cells) = (nil, nil, saved)
                gates = cells + s.state
            }
        }

        /// The cell state of time step `t`. Inference has one, which each step updates in place.
        func cell(_ t: Int) -> UnsafeMutablePointer<S> {
            activations == nil ? cells : cells + t * state
        }
    }

    private func sizes(_ projected: Tensor, _ h0: Tensor) -> Sizes {
        Sizes(steps: projected.shape[0], batch: projected.shape[1], hidden: h0.shape[1], width: projected.shape[2])
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let expected = kind == .rnn(.tanh) || kind == .rnn(.relu) ? [3] : kind == .lstm ? [4] : [3, 4]
        precondition(expected.contains(inputs.count), "\(name): \(inputs.count) inputs")
        let dtype = inputs.dropFirst().map(\.dtype).reduce(inputs[0].dtype, DType.promoted)
        let values = inputs.map { $0.to(dtype) }
        let s = sizes(values[0], values[2])
        precondition(values[0].rank == 3 && values[1].shape == [s.width, s.hidden] && s.width == kind.gates * s.hidden
                     && values[2].shape == [s.batch, s.hidden] && (kind != .lstm || values[3].shape == values[2].shape)
                     && (kind != .gru || values.count == 3 || values[3].shape == [s.width]),
                     "\(name): inconsistent shapes \(values.map(\.shape)) (want [T, B, G·H], [G·H, H], [B, H], …)")
        let savedCount: Int
        switch kind {
        case .rnn: savedCount = 1   // nothing to keep; one element so the buffer has an address
        case .lstm: savedCount = s.lstmSavedCount(keeping: keepsForBackward)
        case .gru: savedCount = 2 * (keepsForBackward ? s.steps : 1) * s.batch * s.width
        }
        // Every element of both is written below (or there are none: an empty batch).
        var out = Tensor.empty([s.steps + (kind == .lstm ? 1 : 0), s.batch, s.hidden], dtype: dtype)
        saved = Tensor.empty([savedCount], dtype: dtype)
        if s.state > 0 {
            switch dtype {
            case .float32: forward(values, s, &out, Float.self)
            case .float64: forward(values, s, &out, Double.self)
            }
        }
        output = out
        return out
    }

    private func forward<S: TensorScalar>(_ values: [Tensor], _ s: Sizes, _ out: inout Tensor, _: S.Type) {
        let kind = self.kind, reverse = self.reverse, keeps = keepsForBackward
        // W_hhᵀ as its own [H, G·H] matrix: each step's product then has an untransposed right factor, which the
        // package's small-product kernel reads in place instead of packing it again at every step.
        withBasePointers(values + [values[1].transposed(0, 1)], S.self) { p in
            let (xp, h0, wt) = (p[0], p[2], p[values.count])
            out.withUnsafeMutableBufferPointer(as: S.self) { o in
                saved.withUnsafeMutableBufferPointer(as: S.self) { saved in
                    let o = o.baseAddress!, saved = saved.baseAddress
                    let lstm = kind == .lstm ? LSTMBuffers(saved!, s, keeping: keeps) : nil
                    // Batch rows never meet in a recurrence, so each thread runs every step for its own rows: one
                    // split for the whole sequence instead of a product split (and a wait) at every step.
                    Parallel.forEachPart(s.batch, work: s.steps * s.batch * s.width * s.hidden) { part in
                        let b0 = part.lowerBound, rows = part.count, hOffset = b0 * s.hidden, gOffset = b0 * s.width
                        for step in 0..<s.steps {
                            let t = reverse ? s.steps - 1 - step : step, prev = s.previous(t, reverse: reverse)
                            let hPrev = prev.map { UnsafePointer(o + $0 * s.state + hOffset) } ?? h0 + hOffset
                            let h = o + t * s.state + hOffset, xt = xp + t * s.batch * s.width + gOffset
                            let recurrent = { (into: UnsafeMutablePointer<S>) in
                                gemm(transposeA: false, transposeB: false, m: rows, n: s.width, k: s.hidden, hPrev, lda: s.hidden,
                                     wt, ldb: s.width, beta: 1, into, ldc: s.width)
                            }
                            switch kind {
                            case .rnn(let f):
                                h.update(from: xt, count: rows * s.hidden)
                                recurrent(h)
                                switch f {
                                case .tanh: S.vectorizableTanh(UnsafePointer(h), into: h, count: rows * s.hidden)
                                case .relu: for k in 0..<(rows * s.hidden) { h[k] = Swift.max(h[k], 0) }
                                }
                            case .lstm:
                                let buffers = lstm!, gates = buffers.gates + gOffset
                                // The product alone into the gate buffer; the gate kernel adds the projection.
                                gemm(transposeA: false, transposeB: false, m: rows, n: s.width, k: s.hidden, hPrev, lda: s.hidden,
                                     wt, ldb: s.width, beta: 0, gates, ldc: s.width)
                                let cPrev = prev.map { UnsafePointer(buffers.cell($0) + hOffset) } ?? p[3] + hOffset
                                GateKernels.lstmForward(gates: gates, input: xt, cPrev: cPrev, rows: rows, hidden: s.hidden,
                                                        activations: buffers.activations.map { $0 + t * s.batch * s.width + gOffset },
                                                        tanhC: buffers.tanhC.map { $0 + t * s.state + hOffset }, h: h, hStride: s.hidden,
                                                        c: buffers.cell(t) + hOffset, cStride: s.hidden)
                            case .gru:
                                // Inference keeps one step's activations and hidden projections, written over at each step.
                                let stored = keeps ? s.steps : 1, slot = keeps ? t : 0
                                let activations = saved! + slot * s.batch * s.width
                                let hg = saved! + (stored + slot) * s.batch * s.width + gOffset
                                for b in 0..<rows {
                                    if values.count > 3 { (hg + b * s.width).update(from: p[3], count: s.width) }
                                    else { (hg + b * s.width).update(repeating: 0, count: s.width) }
                                }
                                recurrent(hg)
                                GateKernels.gruForward(xg: xt, hg: hg, hPrev: hPrev, rows: rows, hidden: s.hidden,
                                                       activations: activations + gOffset, h: h, hStride: s.hidden)
                            }
                        }
                    }
                    if let lstm {
                        (o + s.steps * s.state).update(from: lstm.cell(reverse ? 0 : s.steps - 1), count: s.state)
                    }
                }
            }
        }
    }

    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        precondition(keepsForBackward, "\(name): backward of a forward that ran without recording")
        let values = inputs.map { $0.value.to(dtype) }, s = sizes(values[0], values[2])
        // Scratch: ∂h carried to the previous step, the step's total ∂h, ∂c carried (LSTM), ∂hg of every step (GRU).
        let workCount = 3 * s.state + (kind == .gru ? s.steps * s.batch * s.width : 0)
        var dProjected = Tensor.empty(values[0].shape, dtype: dtype), work = Tensor.zeros([workCount], dtype: dtype)
        var dWeight = Tensor.zeros(values[1].shape, dtype: dtype)
        if s.state > 0 {
            switch dtype {
            case .float32: backward(g.value.to(dtype), values, s, needed, &dProjected, &work, &dWeight, Float.self)
            case .float64: backward(g.value.to(dtype), values, s, needed, &dProjected, &work, &dWeight, Double.self)
            }
        }
        var gradients: [Variable?] = [dProjected, dWeight, work.sliced(axis: 0, start: 0, end: s.state).reshaped([s.batch, s.hidden])]
            .map { Variable($0) }
        if kind == .lstm { gradients.append(Variable(work.sliced(axis: 0, start: 2 * s.state, end: 3 * s.state).reshaped([s.batch, s.hidden]))) }
        if kind == .gru && inputs.count > 3 {
            let dHg = work.sliced(axis: 0, start: 3 * s.state, end: workCount).reshaped([s.steps * s.batch, s.width])
            gradients.append(Variable(dHg.sum(axes: [0])))
        }
        return zip(gradients, zip(needed, inputs)).map { gradient, entry in
            entry.0 ? gradient.map { Variable($0.value.to(entry.1.dtype)) } : nil
        }
    }

    private func backward<S: TensorScalar>(_ g: Tensor, _ values: [Tensor], _ s: Sizes, _ needed: [Bool],
                                           _ dProjected: inout Tensor, _ work: inout Tensor, _ dWeight: inout Tensor, _: S.Type) {
        let kind = self.kind, reverse = self.reverse
        withBasePointers([g, output, saved] + values, S.self) { p in
            let (g, o, saved, w, h0) = (p[0], p[1], p[2], p[4], p[5])
            dProjected.withUnsafeMutableBufferPointer(as: S.self) { dp in
                work.withUnsafeMutableBufferPointer(as: S.self) { work in
                    let dp = dp.baseAddress!, dhCarry = work.baseAddress!, gh = dhCarry + s.state, dcCarry = gh + s.state
                    let dHg = dcCarry + s.state
                    if kind == .lstm { dcCarry.update(from: g + s.steps * s.state, count: s.state) }
                    let lstm = kind == .lstm ? LSTMBuffers(UnsafeMutablePointer(mutating: saved), s, keeping: true) : nil
                    // By batch rows over threads, for the whole sequence, as in the forward.
                    Parallel.forEachPart(s.batch, work: s.steps * s.batch * s.width * s.hidden) { part in
                        let b0 = part.lowerBound, rows = part.count, hOffset = b0 * s.hidden, gOffset = b0 * s.width
                        let dhCarry = dhCarry + hOffset, gh = gh + hOffset, dcCarry = dcCarry + hOffset
                        for step in 0..<s.steps {
                            let t = reverse ? step : s.steps - 1 - step, prev = s.previous(t, reverse: reverse)
                            let hPrev = (prev.map { o + $0 * s.state } ?? h0) + hOffset, h = o + t * s.state + hOffset
                            let gt = g + t * s.state + hOffset
                            for k in 0..<(rows * s.hidden) { gh[k] = gt[k] + dhCarry[k] }
                            let dGates = dp + t * s.batch * s.width + gOffset
                            let dHgStep = kind == .gru ? dHg + t * s.batch * s.width + gOffset : dGates
                            switch kind {
                            case .rnn(let f):
                                switch f {
                                case .tanh: for k in 0..<(rows * s.hidden) { dGates[k] = gh[k] * (1 - h[k] * h[k]) }
                                case .relu: for k in 0..<(rows * s.hidden) { dGates[k] = h[k] > 0 ? gh[k] : 0 }
                                }
                            case .lstm:
                                let buffers = lstm!
                                let cPrev = prev.map { UnsafePointer(buffers.cell($0) + hOffset) } ?? p[6] + hOffset
                                GateKernels.lstmBackward(gh: gh, ghStride: s.hidden, gc: dcCarry, gcStride: s.hidden,
                                                         activations: buffers.activations! + t * s.batch * s.width + gOffset,
                                                         tanhC: buffers.tanhC! + t * s.state + hOffset, cPrev: cPrev, rows: rows,
                                                         hidden: s.hidden, dGates: dGates, dCPrev: dcCarry)
                            case .gru:
                                let hg = saved + s.steps * s.batch * s.width + t * s.batch * s.width + gOffset
                                GateKernels.gruBackward(gh: gh, ghStride: s.hidden, activations: saved + t * s.batch * s.width + gOffset,
                                                        hg: hg, hPrev: hPrev, rows: rows, hidden: s.hidden, dXg: dGates,
                                                        dHg: dHgStep, dHPrev: dhCarry)
                            }
                            // ∂h_{t−1} through the recurrent product (added to the GRU's direct term z·gh).
                            let dRecurrent = kind == .gru ? UnsafePointer(dHgStep) : UnsafePointer(dGates)
                            gemm(transposeA: false, transposeB: false, m: rows, n: s.hidden, k: s.width, dRecurrent, lda: s.width,
                                 w, ldb: s.hidden, beta: kind == .gru ? 1 : 0, dhCarry, ldc: s.hidden)
                        }
                    }
                    guard needed[1] else { return }
                    // ∂W_hh = Σₜ ∂gatesₜᵀ·h_{t−1}: the steps that start from an output row in one product, then the
                    // step that starts from h0.
                    let d = kind == .gru ? UnsafePointer(dHg) : UnsafePointer(dp), rows = s.batch * s.width
                    let first = reverse ? s.steps - 1 : 0
                    dWeight.withUnsafeMutableBufferPointer(as: S.self) { dw in
                        if s.steps > 1 {
                            gemm(transposeA: true, transposeB: false, m: s.width, n: s.hidden, k: (s.steps - 1) * s.batch,
                                 d + (reverse ? 0 : rows), lda: s.width, o + (reverse ? s.state : 0), ldb: s.hidden,
                                 beta: 0, dw.baseAddress!, ldc: s.hidden)
                        }
                        gemm(transposeA: true, transposeB: false, m: s.width, n: s.hidden, k: s.batch, d + first * rows, lda: s.width,
                             h0, ldb: s.hidden, beta: s.steps > 1 ? 1 : 0, dw.baseAddress!, ldc: s.hidden)
                    }
                }
            }
        }
    }

    /// The gradients of the same recurrence rebuilt step by step from differentiable ops, as the vector-Jacobian
    /// product of `Σ output·g`: recorded, so it can be differentiated again.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        // A variable passed twice (the same h0 and c0) is requested once and gets its whole gradient once.
        var requested: [Int] = []
        for i in inputs.indices where needed[i] && !requested.contains(where: { inputs[$0] === inputs[i] }) { requested.append(i) }
        let rebuilt = stepwise(inputs)
        let found = Graph.gradients(of: (rebuilt * g).sum(), withRespectTo: requested.map { inputs[$0] }, createGraph: true)
        var gradients: [Variable?] = Array(repeating: nil, count: inputs.count)
        for (i, gradient) in zip(requested, found) { gradients[i] = gradient }
        return gradients
    }

    /// The op's output computed one step at a time with differentiable ops.
    func stepwise(_ inputs: [Variable]) -> Variable {
        let projected = inputs[0], w = inputs[1], steps = projected.shape[0]
        var h = inputs[2], c = kind == .lstm ? inputs[3] : nil
        var outputs = [Variable?](repeating: nil, count: steps)
        for step in 0..<steps {
            let t = reverse ? steps - 1 - step : step
            let x = unpacked(projected, part: t), recurrent = Variable.matmul(h, w, transposeB: true)
            switch kind {
            case .rnn(let f): h = f(x + recurrent)
            case .lstm: (h, c) = lstmCell(gates: x + recurrent, cell: c!)
            case .gru: h = gruCell(inputGates: x, hiddenGates: inputs.count > 3 ? recurrent + inputs[3] : recurrent, hidden: h)
            }
            outputs[t] = h
        }
        let stacked = Variable.stack(outputs.map { $0! }, axis: 0)
        return kind == .lstm ? Variable.concatenate([stacked, c!.unsqueezed(axis: 0)], axis: 0) : stacked
    }
}

/// Calls `body` with the base address of each tensor's elements (all of type `S`, none empty).
func withBasePointers<S: TensorScalar, R>(_ tensors: [Tensor], _: S.Type, _ body: ([UnsafePointer<S>]) -> R) -> R {
    var pointers: [UnsafePointer<S>] = []
    func next(_ i: Int) -> R {
        guard i < tensors.count else { return body(pointers) }
        return tensors[i].withUnsafeBufferPointer(as: S.self) { p in
            pointers.append(p.baseAddress!)
            return next(i + 1)
        }
    }
    return next(0)
}
