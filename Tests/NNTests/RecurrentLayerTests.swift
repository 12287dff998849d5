import Foundation
import Testing
@testable import NN

// RNN, LSTM, GRU and their cells: PyTorch's parameter names, shapes and initialisation, finite-difference checks of
// whole layers (bidirectional, stacked, batch first, initial states) in Double, the input layouts agreeing with each
// other, and dropout between layers.

private func randn(_ shape: [Int], _ seed: UInt64, dtype: DType = .float64) -> Tensor {
    Tensor.randn(shape, dtype: dtype, generator: RandomGenerator(seed: seed))
}

/// A layer of each kind with the given options, in Double, with seeded weights.
private func layer(_ kind: String, inputSize: Int = 3, hiddenSize: Int = 2, numLayers: Int = 2, batchFirst: Bool = false,
                   dropout: Double = 0, bidirectional: Bool = true, seed: UInt64 = 1) -> Module {
    let g = RandomGenerator(seed: seed)
    switch kind {
    case "LSTM": return LSTM(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: batchFirst,
                             dropout: dropout, bidirectional: bidirectional, dtype: .float64, generator: g)
    case "GRU": return GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: batchFirst,
                           dropout: dropout, bidirectional: bidirectional, dtype: .float64, generator: g)
    case "RNNReLU": return RNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, nonlinearity: .relu,
                               batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: .float64, generator: g)
    default: return RNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: batchFirst,
                        dropout: dropout, bidirectional: bidirectional, dtype: .float64, generator: g)
    }
}

/// The layer's outputs `[output, hN, (cN)]` from `input` and the initial states given (none, or h0 and c0 as needed).
func runRecurrent(_ module: Module, _ input: Variable, _ states: [Variable]) -> [Variable] {
    switch module {
    case let m as LSTM:
        let r = m(input, states.isEmpty ? nil : (states[0], states[1]))
        return [r.output, r.h, r.c]
    case let m as GRU:
        let r = m(input, states.first)
        return [r.output, r.h]
    case let m as RNN:
        let r = m(input, states.first)
        return [r.output, r.h]
    case let m as LSTMCell:
        let r = m(input, states.isEmpty ? nil : (states[0], states[1]))
        return [r.h, r.c]
    case let m as GRUCell: return [m(input, states.first)]
    case let m as RNNCell: return [m(input, states.first)]
    default: preconditionFailure("runRecurrent: \(type(of: module)) is not a recurrent layer")
    }
}

private let layerKinds = ["RNN", "RNNReLU", "LSTM", "GRU"]

@Suite struct RecurrentLayerTests {
    @Test func parametersHavePyTorchsNamesOrderAndShapes() {
        let lstm = LSTM(inputSize: 5, hiddenSize: 4, numLayers: 2, bidirectional: true)
        let expected: [(String, [Int])] = ["l0", "l0_reverse", "l1", "l1_reverse"].flatMap { suffix in
            let input = suffix.hasPrefix("l0") ? 5 : 8
            return [("weight_ih_\(suffix)", [16, input]), ("weight_hh_\(suffix)", [16, 4]), ("bias_ih_\(suffix)", [16]), ("bias_hh_\(suffix)", [16])]
        }
        #expect(lstm.namedParameters().map(\.name) == expected.map(\.0))
        #expect(lstm.namedParameters().map(\.variable.shape) == expected.map(\.1))
        #expect(GRU(inputSize: 5, hiddenSize: 4, bias: false).namedParameters().map { "\($0.name) \($0.variable.shape)" }
                == ["weight_ih_l0 [12, 5]", "weight_hh_l0 [12, 4]"])
        #expect(RNN(inputSize: 5, hiddenSize: 4).namedParameters().map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        for cell in [RNNCell(inputSize: 5, hiddenSize: 4), LSTMCell(inputSize: 5, hiddenSize: 4), GRUCell(inputSize: 5, hiddenSize: 4)] as [Module] {
            #expect(cell.namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        }
        #expect(LSTMCell(inputSize: 5, hiddenSize: 4, bias: false).namedParameters().map(\.variable.shape) == [[16, 5], [16, 4]])
    }

    @Test func weightsAreUniformWithinOneOverRootH() {
        // U(−1/√H, 1/√H) with H = 64: every value inside ±0.125, and 24,576 + 16,384 + 512 draws spread over the range
        // (mean within 0.003 of 0, variance within 5% of bound²/3).
        let values = LSTM(inputSize: 96, hiddenSize: 64, generator: RandomGenerator(seed: 3)).parameters().flatMap(\.value.doubles)
        let mean = values.reduce(0, +) / Double(values.count), variance = values.map { $0 * $0 }.reduce(0, +) / Double(values.count)
        #expect(values.allSatisfy { Swift.abs($0) <= 0.125 })
        #expect(Swift.abs(mean) < 0.003 && Swift.abs(variance / (0.125 * 0.125 / 3) - 1) < 0.05)
    }

    @Test func layersMatchFiniteDifferencesWithInitialStates() throws {
        for kind in layerKinds {
            for batchFirst in [false, true] {
                let m = layer(kind, batchFirst: batchFirst)
                let x = randn(batchFirst ? [2, 4, 3] : [4, 2, 3], 5), h0 = randn([4, 2, 2], 6), c0 = randn([4, 2, 2], 7)
                let states = kind == "LSTM" ? [h0, c0] : [h0]
                _ = try gradcheck({ v in runRecurrent(m, v[0], Array(v.dropFirst())) }, inputs: [x] + states,
                                  name: "\(kind) batchFirst \(batchFirst)")
            }
            // Unbatched input, one layer, one direction, zero initial states.
            let m = layer(kind, numLayers: 1, bidirectional: false)
            _ = try gradcheck({ v in runRecurrent(m, v[0], []) }, inputs: [randn([3, 3], 8)], name: "\(kind) unbatched")
        }
    }

    @Test func parameterGradientsMatchFiniteDifferences() throws {
        // The parameters' gradients: each parameter's value is swapped in by the function, so finite differences
        // perturb it, and the analytic gradient is read back from the layer.
        for kind in layerKinds {
            let m = layer(kind, numLayers: 2, bidirectional: true)
            let x = randn([3, 2, 3], 9), seeds = runRecurrent(m, Variable(x), []).enumerated().map { randn($1.shape, 10 + UInt64($0)) }
            let loss = { Graph.noGrad { weightedSum(runRecurrent(m, Variable(x), []), seeds).value.doubles[0] } }
            m.zeroGrad()
            weightedSum(runRecurrent(m, Variable(x), []), seeds).backward()
            for (name, p) in m.namedParameters() {
                let analytic = p.grad!.doubles, original = p.value
                for i in stride(from: 0, to: original.count, by: Swift.max(1, original.count / 5)) {
                    var plus = original.doubles, minus = plus
                    plus[i] += 1e-6
                    minus[i] -= 1e-6
                    p.value = Tensor(shape: original.shape, scalars: plus)
                    let up = loss()
                    p.value = Tensor(shape: original.shape, scalars: minus)
                    let down = loss()
                    p.value = original
                    let numeric = (up - down) / 2e-6
                    #expect(Swift.abs(numeric - analytic[i]) <= 1e-5 + 1e-3 * Swift.abs(numeric), "\(kind) \(name)[\(i)]")
                }
            }
        }
    }

    @Test func batchFirstAndUnbatchedInputsAgreeWithSequenceFirst() {
        for kind in layerKinds {
            let seqFirst = layer(kind), batchFirst = layer(kind, batchFirst: true)
            let x = randn([5, 3, 3], 11)
            let a = runRecurrent(seqFirst, Variable(x), []), b = runRecurrent(batchFirst, Variable(x.transposed(0, 1)), [])
            #expect(a[0].value == b[0].value.transposed(0, 1) && a[1].value == b[1].value, "\(kind)")
            let one = runRecurrent(seqFirst, Variable(x.sliced(axis: 1, start: 1, end: 2)), [])
            let unbatched = runRecurrent(seqFirst, Variable(x.sliced(axis: 1, start: 1, end: 2).squeezed(axis: 1)), [])
            #expect(unbatched[0].shape == [5, 4] && unbatched[1].shape == [4, 2])
            #expect(zip(one, unbatched).allSatisfy { $0.value.squeezed(axis: 1) == $1.value }, "\(kind)")
        }
    }

    @Test func dropoutActsBetweenLayersInTrainingOnly() {
        let x = randn([6, 4, 3], 12)
        for kind in layerKinds {
            let plain = layer(kind), zero = layer(kind, dropout: 0), half = layer(kind, dropout: 0.5)
            let reference = runRecurrent(plain, Variable(x), [])
            // p = 0: exactly the layer without dropout.
            #expect(zip(runRecurrent(zero, Variable(x), []), reference).allSatisfy { $0.value == $1.value }, "\(kind) p = 0")
            // In evaluation mode there is no dropout.
            half.eval()
            #expect(zip(runRecurrent(half, Variable(x), []), reference).allSatisfy { $0.value == $1.value }, "\(kind) eval")
            // In training mode the second layer sees dropped inputs; the first layer's final state is untouched.
            half.train()
            let dropped = runRecurrent(half, Variable(x), [])
            #expect(dropped[0].value != reference[0].value, "\(kind) training")
            #expect(dropped[1].value.sliced(axis: 0, start: 0, end: 2) == reference[1].value.sliced(axis: 0, start: 0, end: 2))
            // p = 1 zeroes the second layer's input: its outputs are those of an all-zero input sequence.
            let all = layer(kind, dropout: 1), secondOnly = layer(kind, inputSize: 4, numLayers: 1)
            let secondWeights = all.stateDict().filter { $0.key.contains("_l1") }
            try! secondOnly.loadStateDict(Dictionary(uniqueKeysWithValues: secondWeights.map { ($0.key.replacingOccurrences(of: "_l1", with: "_l0"), $0.value) }))
            let both = runRecurrent(all, Variable(x), []), fromZeros = runRecurrent(secondOnly, Variable(Tensor.zeros([6, 4, 4], dtype: .float64)), [])
            #expect(both[0].value == fromZeros[0].value && both[1].value.sliced(axis: 0, start: 2, end: 4) == fromZeros[1].value, "\(kind) p = 1")
        }
    }

    @Test func cellsMatchFiniteDifferencesAndOneStepOfTheLayer() throws {
        let g = RandomGenerator(seed: 13)
        let cells: [Module] = [RNNCell(inputSize: 3, hiddenSize: 2, dtype: .float64, generator: g),
                               RNNCell(inputSize: 3, hiddenSize: 2, nonlinearity: .relu, dtype: .float64, generator: g),
                               LSTMCell(inputSize: 3, hiddenSize: 2, dtype: .float64, generator: g),
                               GRUCell(inputSize: 3, hiddenSize: 2, dtype: .float64, generator: g)]
        for cell in cells {
            let states = cell is LSTMCell ? [randn([4, 2], 14), randn([4, 2], 15)] : [randn([4, 2], 14)]
            _ = try gradcheck({ v in runRecurrent(cell, v[0], Array(v.dropFirst())) }, inputs: [randn([4, 3], 16)] + states,
                              name: "\(type(of: cell))")
            _ = try gradcheck({ v in runRecurrent(cell, v[0], []) }, inputs: [randn([3], 17)], name: "\(type(of: cell)) unbatched")
        }
        // A cell and a one-layer layer with the same weights agree on one step.
        let cell = cells[2], lstm = LSTM(inputSize: 3, hiddenSize: 2, dtype: .float64)
        try lstm.loadStateDict(Dictionary(uniqueKeysWithValues: cell.stateDict().map { ($0.key + "_l0", $0.value) }))
        let x = randn([4, 3], 18), h = randn([4, 2], 19), c = randn([4, 2], 20)
        let a = runRecurrent(cell, Variable(x), [Variable(h), Variable(c)])
        let b = runRecurrent(lstm, Variable(x.unsqueezed(axis: 0)), [Variable(h.unsqueezed(axis: 0)), Variable(c.unsqueezed(axis: 0))])
        #expect(isClose(a[0].value, b[1].value.squeezed(axis: 0), tolerance: 1e-14) && isClose(a[1].value, b[2].value.squeezed(axis: 0), tolerance: 1e-14))
    }

    /// Large enough that the recurrence splits its batch over two threads: every output and gradient must be what one
    /// thread computes (to the rounding of the smaller per-thread products).
    /// Inference (nothing recorded) keeps one step's state (the LSTM's cell, updated in place; the GRU's gates)
    /// rather than every step's; its outputs are the recorded forward's to the bit, in both dtypes, both directions
    /// and with the batch split over threads.
    @Test(arguments: ["LSTM", "GRU"])
    func inferenceMatchesTheRecordedForward(kind: String) {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        for dtype in [DType.float32, .float64] {
            let g = RandomGenerator(seed: 8)
            let module: Module = kind == "LSTM"
                ? LSTM(inputSize: 5, hiddenSize: 24, numLayers: 2, bidirectional: true, dtype: dtype, generator: g)
                : GRU(inputSize: 5, hiddenSize: 24, numLayers: 2, bidirectional: true, dtype: dtype, generator: g)
            for (steps, threads) in [(5, 1), (7, 2)] {
                BLAS.threadCount = threads
                let x = randn([steps, 6, 5], 9, dtype: dtype)
                let states = (kind == "LSTM" ? [10, 11] : [10]).map { Variable(randn([4, 6, 24], $0, dtype: dtype)) }
                let recorded = runRecurrent(module, Variable(x, requiresGrad: true), states)
                #expect(recorded.allSatisfy { $0.opName != nil }, "the recorded run was not recorded")
                let inference = Graph.noGrad { runRecurrent(module, Variable(x), states) }
                for (index, (a, b)) in zip(recorded, inference).enumerated() {
                    #expect(a.value == b.value, "\(kind), \(dtype), T = \(steps), \(threads) threads: output \(index) differs")
                }
            }
        }
    }

    @Test(arguments: layerKinds)
    func batchSplitOverThreadsMatchesOneThread(kind: String) {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        let module = layer(kind, inputSize: 8, hiddenSize: 32, numLayers: 1, bidirectional: true, seed: 4)
        let x = randn([6, 12, 8], 5), h0 = randn([2, 12, 32], 6), c0 = randn([2, 12, 32], 7)
        func run() -> [Tensor] {
            module.zeroGrad()
            let input = Variable(x, requiresGrad: true)
            let states = [Variable(h0, requiresGrad: true)] + (kind == "LSTM" ? [Variable(c0, requiresGrad: true)] : [])
            let outputs = runRecurrent(module, input, states)
            var loss = Variable(Tensor.zeros([], dtype: .float64))
            for (i, o) in outputs.enumerated() { loss = loss + (o * Variable(randn(o.shape, 20 + UInt64(i)))).sum() }
            loss.backward()
            return outputs.map(\.value) + [input.grad!] + states.map { $0.grad! } + module.parameters().map { $0.grad! }
        }
        BLAS.threadCount = 1
        let single = run()
        BLAS.threadCount = 2
        let split = run()
        for (index, (a, b)) in zip(single, split).enumerated() {
            #expect(a.shape == b.shape && zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0)) },
                    "\(kind): result \(index) differs between one and two threads")
        }
    }

    @Test func wrongShapesTrapNamingTheLayer() async {
        await #expect(processExitsWith: .failure) {
            _ = LSTM(inputSize: 3, hiddenSize: 2)(Variable(Tensor.zeros([4, 2, 5])))
        }
        await #expect(processExitsWith: .failure) {
            _ = GRU(inputSize: 3, hiddenSize: 2, numLayers: 2)(Variable(Tensor.zeros([4, 2, 3])), Variable(Tensor.zeros([1, 2, 2])))
        }
        await #expect(processExitsWith: .failure) {
            _ = lstmCell(gates: Variable(Tensor.zeros([2, 8])), cell: Variable(Tensor.zeros([2, 3])))
        }
    }
}
