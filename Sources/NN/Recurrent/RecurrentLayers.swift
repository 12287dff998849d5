import AutoGrad

/// The configuration and weights shared by ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's `RNNBase`), and their forward pass.
///
/// Weights are kept per layer and direction (index `layer·D + direction`) and registered on the owning module under
/// PyTorch's names, `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, with `_reverse` for the backward
/// direction, in PyTorch's order.
struct RecurrentStack {
    let layerName: String
    let kind: RecurrenceKind
    let inputSize: Int, hiddenSize: Int, numLayers: Int
    let bias: Bool, batchFirst: Bool, dropout: Double, bidirectional: Bool
    let generator: RandomGenerator
    let weights: [RecurrentWeights]

    var directions: Int { bidirectional ? 2 : 1 }

    init(_ layerName: String, kind: RecurrenceKind, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool,
         dropout: Double, bidirectional: Bool, dtype: DType, generator: RandomGenerator) {
        precondition(inputSize >= 0 && hiddenSize > 0 && numLayers >= 1,
                     "\(layerName): inputSize \(inputSize) must be non-negative, hiddenSize \(hiddenSize) and numLayers \(numLayers) positive")
        precondition(dropout >= 0 && dropout <= 1, "\(layerName): dropout \(dropout) is not in [0, 1]")
        (self.layerName, self.kind, self.inputSize, self.hiddenSize, self.numLayers) = (layerName, kind, inputSize, hiddenSize, numLayers)
        (self.bias, self.batchFirst, self.dropout, self.bidirectional, self.generator) = (bias, batchFirst, dropout, bidirectional, generator)
        let directions = bidirectional ? 2 : 1
        weights = (0..<numLayers * directions).map { index in
            RecurrentWeights(gates: kind.gates, inputSize: index < directions ? inputSize : directions * hiddenSize,
                             hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
        }
    }

    func register(in module: Module) {
        for (index, w) in weights.enumerated() {
            w.register(in: module, suffix: "_l\(index / directions)" + (index % directions == 1 ? "_reverse" : ""))
        }
    }

    /// Runs the stack (see ``LSTM/callAsFunction(_:_:)`` for the shapes); `c` is nil except for the LSTM.
    func run(_ input: Variable, h0: Variable?, c0: Variable?, training: Bool) -> (output: Variable, h: Variable, c: Variable?) {
        precondition((input.rank == 2 || input.rank == 3) && input.shape.last == inputSize,
                     "\(layerName): input of shape \(input.shape) is not \(batchFirst ? "[batch, time" : "[time, batch"), \(inputSize)] or [time, \(inputSize)]")
        let unbatched = input.rank == 2
        let x = unbatched ? input.unsqueezed(axis: 1) : batchFirst ? input.transposed(0, 1) : input
        let steps = x.shape[0], batch = x.shape[1], stateShape = [numLayers * directions, batch, hiddenSize]
        func state(_ given: Variable?, _ label: String) -> Variable {
            guard let given else { return Variable(Tensor.zeros(stateShape, dtype: input.dtype)) }
            let expected = unbatched ? [numLayers * directions, hiddenSize] : stateShape
            precondition(given.shape == expected, "\(layerName): \(label) of shape \(given.shape) for input \(input.shape) is not \(expected)")
            return unbatched ? given.unsqueezed(axis: 1) : given
        }
        let h0 = state(h0, "h0"), c0 = kind == .lstm ? state(c0, "c0") : nil
        var layerInput = x
        var hs: [Variable] = [], cs: [Variable] = []
        for layer in 0..<numLayers {
            if layer > 0 && training && dropout > 0 { layerInput = NN.dropout(layerInput, p: dropout, generator: generator) }
            let flat = layerInput.reshaped([steps * batch, layerInput.shape[2]])
            var outputs: [Variable] = []
            for direction in 0..<directions {
                let index = layer * directions + direction, w = weights[index]
                // b_hh only adds for the RNN and LSTM, so it joins the one product's bias; the GRU's scales with r.
                let inputBias = kind == .gru ? w.biasIH : w.biasIH.map { $0 + w.biasHH! }
                let projected = Variable.linear(flat, weight: w.weightIH, bias: inputBias)
                let result = recurrence(kind, projected: projected.reshaped([steps, batch, kind.gates * hiddenSize]),
                                        weightHH: w.weightHH, biasHH: w.biasHH, h0: unpacked(h0, part: index),
                                        c0: c0.map { unpacked($0, part: index) }, reverse: direction == 1)
                outputs.append(result.output)
                hs.append(result.h)
                if let c = result.c { cs.append(c) }
            }
            layerInput = outputs.count == 1 ? outputs[0] : Variable.concatenate(outputs, axis: 2)
        }
        var output = layerInput, h = Variable.stack(hs, axis: 0), c = cs.isEmpty ? nil : Variable.stack(cs, axis: 0)
        if unbatched {
            output = output.squeezed(axis: 1)
            h = h.squeezed(axis: 1)
            c = c?.squeezed(axis: 1)
        } else if batchFirst {
            output = output.transposed(0, 1)
        }
        return (output, h, c)
    }

    var summary: String {
        "\(inputSize), \(hiddenSize)" + (numLayers == 1 ? "" : ", numLayers: \(numLayers)") + (bias ? "" : ", bias: false")
            + (batchFirst ? ", batchFirst: true" : "") + (dropout == 0 ? "" : ", dropout: \(dropout)")
            + (bidirectional ? ", bidirectional: true" : "")
    }
}

/// What ``RNN``, ``LSTM`` and ``GRU`` share: the stack of layers that runs them, whose weights it registers under
/// PyTorch's names, and its configuration.
public class RecurrentLayer: Module {
    let stack: RecurrentStack

    init(_ stack: RecurrentStack) {
        self.stack = stack
        super.init()
        stack.register(in: self)
    }

    /// The size of each input step.
    public var inputSize: Int { stack.inputSize }
    /// The size `H` of the hidden state (and of the LSTM's cell state).
    public var hiddenSize: Int { stack.hiddenSize }
    /// The number of stacked layers.
    public var numLayers: Int { stack.numLayers }
    /// Whether inputs and outputs are `[B, T, ·]`.
    public var batchFirst: Bool { stack.batchFirst }
    /// Whether each layer also runs from the last step to the first.
    public var bidirectional: Bool { stack.bidirectional }

    public override var summary: String { stack.summary }
}

/// A multi-layer Elman RNN (PyTorch's `nn.RNN`): at each step `hₜ = act(xₜ·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)`,
/// `act` tanh or ReLU; layer `l > 0` takes layer `l − 1`'s outputs (with dropout between layers in training).
///
/// Shapes: input `[T, B, inputSize]` (`[B, T, inputSize]` with `batchFirst`) or unbatched `[T, inputSize]`;
/// `h0` and `hN` `[numLayers·D, B, H]` (`[numLayers·D, H]` unbatched), `D = 2` when bidirectional; output
/// `[T, B, D·H]` (batch first with `batchFirst`), the last layer's `h` at every step, both directions concatenated.
///
/// Parameters, for each layer `k` (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih_lk`
/// `[H, inputSize]` (`[H, D·H]` for `k > 0`), `weight_hh_lk` `[H, H]`, `bias_ih_lk`, `bias_hh_lk` `[H]`, and the same
/// with `_reverse` for the backward direction. Each layer and direction projects the whole sequence's input in one
/// product; each step then runs one recurrent product and its nonlinearity. Padded and packed sequences are not
/// supported.
public final class RNN: RecurrentLayer {

    /// A stack of `numLayers` layers (PyTorch's defaults).
    ///
    /// - Precondition: `inputSize ≥ 0`, `hiddenSize` and `numLayers` positive, `dropout` in `[0, 1]`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32,
                generator: RandomGenerator = .global) {
        super.init(RecurrentStack("RNN", kind: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                               bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                               generator: generator))
    }

    /// The outputs of every step and the final hidden states, from `input` and `h0` (zeros when nil). `layer(x)`
    /// alone is ``forward(_:)``: the outputs only.
    ///
    /// - Precondition: the shapes are as in the type's description.
    public func callAsFunction(_ input: Variable, _ h0: Variable?) -> (output: Variable, h: Variable) {
        let r = stack.run(input, h0: h0, c0: nil, training: isTraining)
        return (r.output, r.h)
    }

    /// The outputs of every step from a zero initial state.
    public override func forward(_ input: Variable) -> Variable { self(input, nil).output }

    /// The nonlinearity of the recurrence (tanh or ReLU).
    public var nonlinearity: RNNNonlinearity { stack.kind == .rnn(.relu) ? .relu : .tanh }

    public override var summary: String {
        stack.summary + (stack.kind == .rnn(.relu) ? ", nonlinearity: relu" : "")
    }
}

/// A multi-layer long short-term memory (PyTorch's `nn.LSTM`): at each step the gates
/// `xₜ·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh` (order i, f, g, o) give `cₜ = σ(f)·c_{t−1} + σ(i)·tanh(g)` and
/// `hₜ = σ(o)·tanh(cₜ)`; layer `l > 0` takes layer `l − 1`'s outputs (with dropout between layers in training).
///
/// Shapes: input `[T, B, inputSize]` (`[B, T, inputSize]` with `batchFirst`) or unbatched `[T, inputSize]`;
/// `h0`, `c0`, `hN`, `cN` `[numLayers·D, B, H]` (`[numLayers·D, H]` unbatched), `D = 2` when bidirectional; output
/// `[T, B, D·H]` (batch first with `batchFirst`), the last layer's `h` at every step, both directions concatenated.
///
/// Parameters, for each layer `k` (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih_lk`
/// `[4H, inputSize]` (`[4H, D·H]` for `k > 0`), `weight_hh_lk` `[4H, H]`, `bias_ih_lk`, `bias_hh_lk` `[4H]`, and the
/// same with `_reverse` for the backward direction. Each layer and direction projects the whole sequence's input in
/// one product; each step then runs one recurrent product and the fused gate arithmetic of ``lstmCell(gates:cell:)``.
/// PyTorch's `proj_size` is not provided; padded and packed sequences are not supported.
///
/// ```swift
/// let lstm = LSTM(inputSize: 128, hiddenSize: 256, numLayers: 2, batchFirst: true)
/// let (output, h, c) = lstm(Variable(Tensor.randn([32, 50, 128])), nil)   // [32, 50, 256], [2, 32, 256], [2, 32, 256]
/// let next = lstm(Variable(Tensor.randn([32, 1, 128])), (h, c))              // continues from the last state
/// ```
public final class LSTM: RecurrentLayer {

    /// A stack of `numLayers` layers (PyTorch's defaults).
    ///
    /// - Precondition: `inputSize ≥ 0`, `hiddenSize` and `numLayers` positive, `dropout` in `[0, 1]`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32, generator: RandomGenerator = .global) {
        super.init(RecurrentStack("LSTM", kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                               bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                               generator: generator))
    }

    /// The outputs of every step and the final hidden and cell states, from `input` and `state` (zeros when nil).
    /// `lstm(x)` alone is ``forward(_:)``: the outputs only.
    ///
    /// - Precondition: the shapes are as in the type's description.
    public func callAsFunction(_ input: Variable, _ state: (h: Variable, c: Variable)?) -> (output: Variable, h: Variable, c: Variable) {
        let r = stack.run(input, h0: state?.h, c0: state?.c, training: isTraining)
        return (r.output, r.h, r.c!)
    }

    /// The outputs of every step from zero initial states.
    public override func forward(_ input: Variable) -> Variable { self(input, nil).output }

}

/// A multi-layer gated recurrent unit (PyTorch's `nn.GRU`): at each step, with `xg = xₜ·W_ihᵀ + b_ih` and
/// `hg = h_{t−1}·W_hhᵀ + b_hh` (order r, z, n), `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)`,
/// `hₜ = (1 − z)·n + z·h_{t−1}`; layer `l > 0` takes layer `l − 1`'s outputs (with dropout between layers in training).
///
/// Shapes: input `[T, B, inputSize]` (`[B, T, inputSize]` with `batchFirst`) or unbatched `[T, inputSize]`;
/// `h0` and `hN` `[numLayers·D, B, H]` (`[numLayers·D, H]` unbatched), `D = 2` when bidirectional; output
/// `[T, B, D·H]` (batch first with `batchFirst`), the last layer's `h` at every step, both directions concatenated.
///
/// Parameters, for each layer `k` (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih_lk`
/// `[3H, inputSize]` (`[3H, D·H]` for `k > 0`), `weight_hh_lk` `[3H, H]`, `bias_ih_lk`, `bias_hh_lk` `[3H]`, and the
/// same with `_reverse` for the backward direction. Each layer and direction projects the whole sequence's input in
/// one product; each step then runs one recurrent product and the fused gate arithmetic of
/// ``gruCell(inputGates:hiddenGates:hidden:)``. Padded and packed sequences are not supported.
public final class GRU: RecurrentLayer {

    /// A stack of `numLayers` layers (PyTorch's defaults).
    ///
    /// - Precondition: `inputSize ≥ 0`, `hiddenSize` and `numLayers` positive, `dropout` in `[0, 1]`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32, generator: RandomGenerator = .global) {
        super.init(RecurrentStack("GRU", kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                               bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                               generator: generator))
    }

    /// The outputs of every step and the final hidden states, from `input` and `h0` (zeros when nil). `layer(x)`
    /// alone is ``forward(_:)``: the outputs only.
    ///
    /// - Precondition: the shapes are as in the type's description.
    public func callAsFunction(_ input: Variable, _ h0: Variable?) -> (output: Variable, h: Variable) {
        let r = stack.run(input, h0: h0, c0: nil, training: isTraining)
        return (r.output, r.h)
    }

    /// The outputs of every step from a zero initial state.
    public override func forward(_ input: Variable) -> Variable { self(input, nil).output }

}
