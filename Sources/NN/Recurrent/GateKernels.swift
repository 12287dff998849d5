import AutoGrad
import CKernels

/// The elementwise gate arithmetic of the LSTM and GRU steps, on raw rows, shared by the step ops
/// (``LSTMCellOp``, ``GRUCellOp``) and the whole-sequence recurrences.
///
/// Every loop is a plain sweep over one row's contiguous elements with the vectorisable `sigmoid`/`tanh` of
/// ``VectorMathScalar``, so after specialisation for Float or Double the compiler emits packed code; the LSTM's
/// Float forward and backward run CKernels' `ck_lstm_gates_f32` and `ck_lstm_gates_backward_f32` instead (the same
/// σ and tanh, several of the CPU's widest registers a step with FMA, where Swift's baseline code has four lanes
/// without). Rows are independent; `rows` rows of `hidden` units each are processed.
enum GateKernels {
    // MARK: LSTM (gate order i, f, g, o)

    /// From gate pre-activations `gates + input` (`[rows, 4H]` each; a nil `input` adds nothing) and the previous
    /// cell state `cPrev` (`[rows, H]`): `activations = [σ(i), σ(f), tanh(g), σ(o)]`, `c = σ(f)·cPrev + σ(i)·tanh(g)`,
    /// `tanhC = tanh(c)`, `h = σ(o)·tanh(c)`. `h` and `c` are written with row strides `hStride` and `cStride`.
    /// `activations` and `tanhC` are both given or both nil: inference keeps only `h` and `c`, which spares the
    /// stores a backward would need. `c` may be `cPrev` itself, with `cStride == H`.
    @inline(__always)
    static func lstmForward<S: TensorScalar>(gates: UnsafePointer<S>, input: UnsafePointer<S>?, cPrev: UnsafePointer<S>,
                                             rows: Int, hidden n: Int,
                                             activations: UnsafeMutablePointer<S>?, tanhC: UnsafeMutablePointer<S>?,
                                             h: UnsafeMutablePointer<S>, hStride: Int,
                                             c: UnsafeMutablePointer<S>, cStride: Int) {
        precondition((activations == nil) == (tanhC == nil), "LSTM gates: activations and tanhC are both kept or neither")
        if S.self == Float.self {
            // CKernels' version at the CPU's level: the same σ and tanh, 32 or 64 lanes a step with FMA.
            ck_lstm_gates_f32(floats(gates), input.map(floats), floats(cPrev), rows, n, activations.map(floats),
                              tanhC.map(floats), floats(h), hStride, floats(c), cStride)
            return
        }
        // Without kept activations, one row's worth of scratch stands in for them.
        let scratch = activations == nil ? UnsafeMutablePointer<S>.allocate(capacity: 5 * n) : nil
        defer { scratch?.deallocate() }
        for row in 0..<rows {
            let a = gates + row * 4 * n, act = activations.map { $0 + row * 4 * n } ?? scratch!
            let tc = tanhC.map { $0 + row * n } ?? scratch! + 4 * n
            if let input {
                let x = input + row * 4 * n
                for k in 0..<(4 * n) { act[k] = a[k] + x[k] }
            } else {
                act.update(from: a, count: 4 * n)
            }
            S.vectorizableSigmoid(UnsafePointer(act), into: act, count: 2 * n)
            S.vectorizableTanh(UnsafePointer(act + 2 * n), into: act + 2 * n, count: n)
            S.vectorizableSigmoid(UnsafePointer(act + 3 * n), into: act + 3 * n, count: n)
            let cp = cPrev + row * n, cr = c + row * cStride, hr = h + row * hStride
            for k in 0..<n { cr[k] = act[n + k] * cp[k] + act[k] * act[2 * n + k] }
            S.vectorizableTanh(UnsafePointer(cr), into: tc, count: n)
            for k in 0..<n { hr[k] = act[3 * n + k] * tc[k] }
        }
    }

    /// The gradients of ``lstmForward``: from `gh = ∂L/∂h` and `gc = ∂L/∂c` to `dGates` (`[rows, 4H]`) and `dCPrev`
    /// (`[rows, H]`; it may be `gc` itself, each element is read before it is written). With `δc = gc + gh·σ(o)·(1 − tanh²c)`:
    /// `∂i = δc·tanh(g)·σ(i)(1 − σ(i))`, `∂f = δc·cPrev·σ(f)(1 − σ(f))`, `∂g = δc·σ(i)·(1 − tanh²g)`,
    /// `∂o = gh·tanh(c)·σ(o)(1 − σ(o))`, `∂cPrev = δc·σ(f)`. `gh` and `gc` have row strides `ghStride`, `gcStride`.
    @inline(__always)
    static func lstmBackward<S: TensorScalar>(gh: UnsafePointer<S>, ghStride: Int, gc: UnsafePointer<S>, gcStride: Int,
                                              activations: UnsafePointer<S>, tanhC: UnsafePointer<S>, cPrev: UnsafePointer<S>,
                                              rows: Int, hidden n: Int,
                                              dGates: UnsafeMutablePointer<S>, dCPrev: UnsafeMutablePointer<S>) {
        if S.self == Float.self {
            // CKernels' version at the CPU's level, 32 or 64 lanes a step with FMA.
            ck_lstm_gates_backward_f32(floats(gh), ghStride, floats(gc), gcStride, floats(activations), floats(tanhC), floats(cPrev),
                                       rows, n, floats(dGates), floats(dCPrev))
            return
        }
        for row in 0..<rows {
            let act = activations + row * 4 * n, tc = tanhC + row * n, cp = cPrev + row * n, d = dGates + row * 4 * n
            let ghr = gh + row * ghStride, gcr = gc + row * gcStride, dcp = dCPrev + row * n
            for k in 0..<n {
                let i = act[k], f = act[n + k], g = act[2 * n + k], o = act[3 * n + k], t = tc[k]
                let dh = ghr[k], dc = gcr[k] + dh * o * (1 - t * t)
                d[k] = dc * g * i * (1 - i)
                d[n + k] = dc * cp[k] * f * (1 - f)
                d[2 * n + k] = dc * i * (1 - g * g)
                d[3 * n + k] = dh * t * o * (1 - o)
                dcp[k] = dc * f
            }
        }
    }

    // MARK: GRU (gate order r, z, n)

    /// From the input part `xg` and the hidden part `hg` of the gate pre-activations (`[rows, 3H]` each, biases
    /// included) and the previous state `hPrev` (`[rows, H]`): `r = σ(xr + hr)`, `z = σ(xz + hz)`,
    /// `n = tanh(xn + r·hn)`, `h = (1 − z)·n + z·hPrev`; `activations = [r, z, n]`. `h` has row stride `hStride`.
    @inline(__always)
    static func gruForward<S: TensorScalar>(xg: UnsafePointer<S>, hg: UnsafePointer<S>, hPrev: UnsafePointer<S>,
                                            rows: Int, hidden n: Int, activations: UnsafeMutablePointer<S>,
                                            h: UnsafeMutablePointer<S>, hStride: Int) {
        for row in 0..<rows {
            let x = xg + row * 3 * n, hh = hg + row * 3 * n, act = activations + row * 3 * n
            for k in 0..<2 * n { act[k] = x[k] + hh[k] }
            S.vectorizableSigmoid(UnsafePointer(act), into: act, count: 2 * n)
            for k in 0..<n { act[2 * n + k] = x[2 * n + k] + act[k] * hh[2 * n + k] }
            S.vectorizableTanh(UnsafePointer(act + 2 * n), into: act + 2 * n, count: n)
            let hp = hPrev + row * n, hr = h + row * hStride
            for k in 0..<n {
                let z = act[n + k], nk = act[2 * n + k]
                hr[k] = nk + z * (hp[k] - nk)
            }
        }
    }

    /// The gradients of ``gruForward`` from `gh = ∂L/∂h` (row stride `ghStride`): with `∂n̂ = gh·(1 − z)·(1 − n²)`
    /// (the gradient of `n`'s pre-activation), `∂xn = ∂n̂`, `∂hn = ∂n̂·r`, `∂xr = ∂hr = ∂n̂·hn·r(1 − r)`,
    /// `∂xz = ∂hz = gh·(hPrev − n)·z(1 − z)`, `∂hPrev = gh·z`.
    @inline(__always)
    static func gruBackward<S: TensorScalar>(gh: UnsafePointer<S>, ghStride: Int, activations: UnsafePointer<S>,
                                             hg: UnsafePointer<S>, hPrev: UnsafePointer<S>, rows: Int, hidden n: Int,
                                             dXg: UnsafeMutablePointer<S>, dHg: UnsafeMutablePointer<S>,
                                             dHPrev: UnsafeMutablePointer<S>) {
        for row in 0..<rows {
            let act = activations + row * 3 * n, hh = hg + row * 3 * n, hp = hPrev + row * n, g = gh + row * ghStride
            let dx = dXg + row * 3 * n, dhh = dHg + row * 3 * n, dhp = dHPrev + row * n
            for k in 0..<n {
                let r = act[k], z = act[n + k], nk = act[2 * n + k]
                let dn = g[k] * (1 - z) * (1 - nk * nk)
                let dr = dn * hh[2 * n + k] * r * (1 - r)
                let dz = g[k] * (hp[k] - nk) * z * (1 - z)
                dx[k] = dr
                dx[n + k] = dz
                dx[2 * n + k] = dn
                dhh[k] = dr
                dhh[n + k] = dz
                dhh[2 * n + k] = dn * r
                dhp[k] = g[k] * z
            }
        }
    }
}
