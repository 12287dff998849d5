import Foundation
import Testing
@testable import NN

// The LSTM step's gate arithmetic on Float rows (CKernels' ck_lstm_gates_f32 and ck_lstm_gates_backward_f32, at every
// level through LSTMGateKernelLevelTests) against the same arithmetic in Double.

@Suite struct LSTMGateTests {
    /// Every output of the Float gates is within a few Float roundings of the Double ones, over pre-activations from
    /// −30 to 30 (both sides of tanh's switch at 0.55, tiny values where tanh must keep its relative accuracy), on
    /// rows whose width (37) leaves a partial vector, with strided `h` and `c`; the same with the pre-activations
    /// given in two parts (`gates + input`, as the recurrence passes them), and without the kept activations
    /// (inference), which must not change `h` or `c` by a bit.
    @Test func floatGatesMatchDouble() {
        let (rows, n) = (3, 37)
        let special: [Double] = [0, 1e-6, -1e-6, 0.5499, 0.5501, -0.5501, 20.5, -20.5, 30, -30]
        let gates: [Double] = (0..<(rows * 4 * n)).map { k in k < special.count ? special[k] : Double((k * 7919) % 2001 - 1000) / 80 }
        let cPrev: [Double] = (0..<(rows * n)).map { Double(($0 * 104_729) % 401 - 200) / 50 }
        // The second part: quarters (exact in both dtypes), so each dtype's two parts add up to its own gates.
        let parts: [Double] = (0..<(rows * 4 * n)).map { k in k < special.count ? 0 : Double(k % 9 - 4) / 4 }
        func run<S: TensorScalar>(_: S.Type, split: Bool = false, keeping: Bool = true)
            -> (activations: [Double], tanhC: [Double], h: [Double], c: [Double]) {
            let g = zip(gates, parts).map { S($0) - (split ? S($1) : 0) }, x = parts.map { S($0) }, cp = cPrev.map { S($0) }
            var activations = [S](repeating: 0, count: rows * 4 * n), tanhC = [S](repeating: 0, count: rows * n)
            var h = [S](repeating: 0, count: rows * (n + 3)), c = [S](repeating: 0, count: rows * (n + 5))
            g.withUnsafeBufferPointer { g in
                x.withUnsafeBufferPointer { x in
                    cp.withUnsafeBufferPointer { cp in
                        GateKernels.lstmForward(gates: g.baseAddress!, input: split ? x.baseAddress! : nil, cPrev: cp.baseAddress!,
                                                rows: rows, hidden: n,
                                                activations: keeping ? activations.withUnsafeMutableBufferPointer { $0.baseAddress! } : nil,
                                                tanhC: keeping ? tanhC.withUnsafeMutableBufferPointer { $0.baseAddress! } : nil,
                                                h: h.withUnsafeMutableBufferPointer { $0.baseAddress! }, hStride: n + 3,
                                                c: c.withUnsafeMutableBufferPointer { $0.baseAddress! }, cStride: n + 5)
                    }
                }
            }
            func doubles(_ v: [S]) -> [Double] { v.map { Double($0) } }
            return (doubles(activations), doubles(tanhC), doubles(h), doubles(c))
        }
        let float = run(Float.self), double = run(Double.self)
        func worst(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity }
        for (name, f) in [("one part", float), ("two parts", run(Float.self, split: true))] {
            #expect(worst(f.activations, double.activations) <= 5e-7, "activations, \(name)")
            #expect(worst(f.tanhC, double.tanhC) <= 5e-7, "tanh(c), \(name)")
            #expect(worst(f.h, double.h) <= 5e-7, "h, \(name)")
            #expect(worst(f.c, double.c) <= 2e-6, "c, \(name)")
        }
        #expect(worst(run(Double.self, split: true).h, double.h) <= 1e-15, "Double in two parts")
        // Inference updates the cell state in place: c written over cPrev.
        func inPlace<S: TensorScalar>(_: S.Type) -> [Double] {
            let g = gates.map { S($0) }
            var cell = cPrev.map { S($0) }, h = [S](repeating: 0, count: rows * n)
            cell.withUnsafeMutableBufferPointer { cell in
                GateKernels.lstmForward(gates: g, input: nil, cPrev: UnsafePointer(cell.baseAddress!), rows: rows, hidden: n,
                                        activations: nil, tanhC: nil, h: &h, hStride: n, c: cell.baseAddress!, cStride: n)
            }
            return cell.map { Double($0) }
        }
        func unstrided(_ c: [Double]) -> [Double] { (0..<rows).flatMap { c[($0 * (n + 5))..<($0 * (n + 5) + n)] } }
        #expect(inPlace(Float.self) == unstrided(float.c) && inPlace(Double.self) == unstrided(double.c), "c over cPrev")
        for split in [false, true] {
            for (name, (kept, inference)) in [("Float", (run(Float.self, split: split), run(Float.self, split: split, keeping: false))),
                                              ("Double", (run(Double.self, split: split), run(Double.self, split: split, keeping: false)))] {
                #expect(inference.h == kept.h && inference.c == kept.c, "\(name) inference (split \(split)) changed h or c")
                #expect(inference.activations.allSatisfy { $0 == 0 } && inference.tanhC.allSatisfy { $0 == 0 },
                        "\(name) inference (split \(split)) wrote the activations")
            }
        }
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
            GateKernels.lstmForward(gates: g, input: nil, cPrev: cp, rows: 1, hidden: 1, activations: &act, tanhC: &tc, h: &h, hStride: 1,
                                    c: &c, cStride: 1)
            return act[2]
        }
        #expect(abs(Double(tinyTanh[0]) - 1e-6) <= 1e-12 && abs(Double(tinyTanh[1]) + 1e-6) <= 1e-12, "tanh of ±1e-6: \(tinyTanh)")
    }

    /// σ and tanh of the Float gates are within 2.5 ulp of the correctly rounded values over a dense sweep of
    /// [−20, 20] (tanh's switch at 0.55 included), read from the kept activations `σ(i)` and `tanh(g)`.
    @Test func gateFunctionsAreWithinTwoAndAHalfUlp() {
        let n = 4001
        let xs: [Float] = (0..<n).map { Float(-20 + 40 * Double($0) / Double(n - 1)) } + [0.55, -0.55, 0.5499999, 0.5500001, 1e-3, -1e-30]
        let count = xs.count
        var gates = [Float](repeating: 0, count: 4 * count)
        for (k, x) in xs.enumerated() { gates[k] = x; gates[2 * count + k] = x }
        var activations = [Float](repeating: 0, count: 4 * count), tanhC = [Float](repeating: 0, count: count)
        var h = [Float](repeating: 0, count: count), c = [Float](repeating: 0, count: count)
        let cPrev = [Float](repeating: 0, count: count)
        GateKernels.lstmForward(gates: gates, input: nil, cPrev: cPrev, rows: 1, hidden: count, activations: &activations,
                                tanhC: &tanhC, h: &h, hStride: count, c: &c, cStride: count)
        func ulps(_ value: Float, _ exact: Double) -> Double { abs(Double(value) - exact) / Double(Float(exact).ulp) }
        let sigmoid = zip(xs, activations[0..<count]).map { ulps($1, 1 / (1 + Foundation.exp(-Double($0)))) }.max()!
        let tanh = zip(xs, activations[(2 * count)..<(3 * count)]).map { ulps($1, Foundation.tanh(Double($0))) }.max()!
        #expect(sigmoid <= 2.5, "σ: \(sigmoid) ulp")
        #expect(tanh <= 2.5, "tanh: \(tanh) ulp")
    }
}
