import Testing
@testable import NN

// The LSTM step's gate arithmetic on Float rows (CKernels' ck_lstm_gates_f32 and ck_lstm_gates_backward_f32, at every
// level through LSTMGateKernelLevelTests) against the same arithmetic in Double.

@Suite struct LSTMGateTests {
    /// Every output of the Float gates is within a few Float roundings of the Double ones, over pre-activations from
    /// −30 to 30 (both sides of tanh's switch at 0.55, tiny values where tanh must keep its relative accuracy), on
    /// rows whose width (37) leaves a partial vector, with strided `h` and `c`.
    @Test func floatGatesMatchDouble() {
        let (rows, n) = (3, 37)
        let special: [Double] = [0, 1e-6, -1e-6, 0.5499, 0.5501, -0.5501, 20.5, -20.5, 30, -30]
        let gates: [Double] = (0..<(rows * 4 * n)).map { k in k < special.count ? special[k] : Double((k * 7919) % 2001 - 1000) / 80 }
        let cPrev: [Double] = (0..<(rows * n)).map { Double(($0 * 104_729) % 401 - 200) / 50 }
        func run<S: TensorScalar>(_: S.Type) -> (activations: [Double], tanhC: [Double], h: [Double], c: [Double]) {
            let g = gates.map { S($0) }, cp = cPrev.map { S($0) }
            var activations = [S](repeating: 0, count: rows * 4 * n), tanhC = [S](repeating: 0, count: rows * n)
            var h = [S](repeating: 0, count: rows * (n + 3)), c = [S](repeating: 0, count: rows * (n + 5))
            g.withUnsafeBufferPointer { g in
                cp.withUnsafeBufferPointer { cp in
                    GateKernels.lstmForward(gates: g.baseAddress!, cPrev: cp.baseAddress!, rows: rows, hidden: n,
                                            activations: activations.withUnsafeMutableBufferPointer { $0.baseAddress! },
                                            tanhC: tanhC.withUnsafeMutableBufferPointer { $0.baseAddress! },
                                            h: h.withUnsafeMutableBufferPointer { $0.baseAddress! }, hStride: n + 3,
                                            c: c.withUnsafeMutableBufferPointer { $0.baseAddress! }, cStride: n + 5)
                }
            }
            func doubles(_ v: [S]) -> [Double] { v.map { Double($0) } }
            return (doubles(activations), doubles(tanhC), doubles(h), doubles(c))
        }
        let float = run(Float.self), double = run(Double.self)
        func worst(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity }
        #expect(worst(float.activations, double.activations) <= 5e-7, "activations")
        #expect(worst(float.tanhC, double.tanhC) <= 5e-7, "tanh(c)")
        #expect(worst(float.h, double.h) <= 5e-7, "h")
        #expect(worst(float.c, double.c) <= 2e-6, "c")
        // The backward, from the Double forward's activations (so both dtypes start from the same values), with
        // strided gh and with dCPrev written over gc, as the recurrence does.
        let gh: [Double] = (0..<(rows * (n + 2))).map { Double(($0 * 7_727) % 301 - 150) / 60 }
        let gc: [Double] = (0..<(rows * n)).map { Double(($0 * 3_571) % 201 - 100) / 40 }
        func backward<S: TensorScalar>(_: S.Type) -> (dGates: [Double], dCPrev: [Double]) {
            let (act, tc, cp, ghs) = (double.activations.map { S($0) }, double.tanhC.map { S($0) }, cPrev.map { S($0) }, gh.map { S($0) })
            var dGates = [S](repeating: 0, count: rows * 4 * n), carry = gc.map { S($0) }
            carry.withUnsafeMutableBufferPointer { carry in
                GateKernels.lstmBackward(gh: ghs, ghStride: n + 2, gc: UnsafePointer(carry.baseAddress!), gcStride: n, activations: act,
                                         tanhC: tc, cPrev: cp, rows: rows, hidden: n, dGates: &dGates, dCPrev: carry.baseAddress!)
            }
            return (dGates.map { Double($0) }, carry.map { Double($0) })
        }
        let floatBackward = backward(Float.self), doubleBackward = backward(Double.self)
        #expect(worst(floatBackward.dGates, doubleBackward.dGates) <= 2e-6, "dGates")
        #expect(worst(floatBackward.dCPrev, doubleBackward.dCPrev) <= 2e-6, "dCPrev")
        #expect(doubleBackward.dCPrev != gc, "dCPrev written over gc")
        // tanh of a tiny g keeps its relative accuracy (a form like 2σ(2x) − 1 would lose it).
        let tinyTanh = [Float(1e-6), -1e-6].map { x -> Float in
            var act = [Float](repeating: 0, count: 4), tc: Float = 0, h: Float = 0, c: Float = 0
            let g: [Float] = [0, 0, x, 0], cp: [Float] = [0]
            GateKernels.lstmForward(gates: g, cPrev: cp, rows: 1, hidden: 1, activations: &act, tanhC: &tc, h: &h, hStride: 1,
                                    c: &c, cStride: 1)
            return act[2]
        }
        #expect(abs(Double(tinyTanh[0]) - 1e-6) <= 1e-12 && abs(Double(tinyTanh[1]) + 1e-6) <= 1e-12, "tanh of ±1e-6: \(tinyTanh)")
    }
}
