import AutoGrad

/// The nonlinearity of a plain recurrent layer or cell (PyTorch's `nonlinearity` argument).
public enum RNNNonlinearity: String, Sendable {
    /// `tanh`, the default.
    case tanh
    /// `max(0, ·)`.
    case relu

    func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .tanh: return x.tanh()
        case .relu: return x.relu()
        }
    }
}

/// The weights and biases of one recurrent cell or one layer and direction of a recurrent layer: `W_ih`
/// `[G·H, inputSize]`, `W_hh` `[G·H, H]`, `b_ih` and `b_hh` `[G·H]` (nil without biases), with `G` gates.
///
/// PyTorch initialises every one of them from U(−1/√H, 1/√H); so does ``init(gates:inputSize:hiddenSize:bias:dtype:generator:)``.
struct RecurrentWeights {
    let weightIH: Variable, weightHH: Variable
    let biasIH: Variable?, biasHH: Variable?

    init(gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType, generator: RandomGenerator) {
        let bound = hiddenSize > 0 ? 1 / Double(hiddenSize).squareRoot() : 0
        func draw(_ shape: [Int]) -> Variable {
            Variable(Tensor.uniform(shape, low: -bound, high: bound, dtype: dtype, generator: generator))
        }
        weightIH = draw([gates * hiddenSize, inputSize])
        weightHH = draw([gates * hiddenSize, hiddenSize])
        biasIH = bias ? draw([gates * hiddenSize]) : nil
        biasHH = bias ? draw([gates * hiddenSize]) : nil
    }

    /// Registers the four under PyTorch's names followed by `suffix` (`weight_ih` + `_l0_reverse`).
    func register(in module: Module, suffix: String = "") {
        module.registerParameter("weight_ih" + suffix, weightIH)
        module.registerParameter("weight_hh" + suffix, weightHH)
        if let biasIH, let biasHH {
            module.registerParameter("bias_ih" + suffix, biasIH)
            module.registerParameter("bias_hh" + suffix, biasHH)
        }
    }

    /// `x·W_ihᵀ + b_ih` over the last dimension of `x`.
    func inputProjection(_ x: Variable) -> Variable { Variable.linear(x, weight: weightIH, bias: biasIH) }

    /// `h·W_hhᵀ + b_hh` over the last dimension of `h`.
    func hiddenProjection(_ h: Variable) -> Variable { Variable.linear(h, weight: weightHH, bias: biasHH) }
}

/// What every recurrent cell holds: PyTorch's four parameters (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`) for `G`
/// gates, its sizes, and the checks of its input and states. ``RNNCell``, ``LSTMCell`` and ``GRUCell`` add the step.
public class RecurrentCell: Module {
    /// `W_ih`, shape `[G·H, inputSize]` with `G` gates (state-dict key `weight_ih`).
    public let weightIH: Variable
    /// `W_hh`, shape `[G·H, H]` (`weight_hh`).
    public let weightHH: Variable
    /// `b_ih`, shape `[G·H]` (`bias_ih`), or nil.
    public let biasIH: Variable?
    /// `b_hh`, shape `[G·H]` (`bias_hh`), or nil.
    public let biasHH: Variable?
    /// The size of each input.
    public let inputSize: Int
    /// The size `H` of the hidden (and cell) state.
    public let hiddenSize: Int
    let weights: RecurrentWeights
    /// The cell's type name, for trap messages.
    private let cellName: String

    init(_ cellName: String, gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType, generator: RandomGenerator) {
        precondition(inputSize >= 0 && hiddenSize >= 0, "\(cellName): negative size inputSize \(inputSize), hiddenSize \(hiddenSize)")
        self.cellName = cellName
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weights = RecurrentWeights(gates: gates, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
        (weightIH, weightHH, biasIH, biasHH) = (weights.weightIH, weights.weightHH, weights.biasIH, weights.biasHH)
        super.init()
        weights.register(in: self)
    }

    /// Checks the input `[B, inputSize]` or unbatched `[inputSize]` and the states given (`[B, H]` or `[H]` to match).
    func checkInput(_ input: Variable, states: [Variable?]) {
        precondition((input.rank == 1 || input.rank == 2) && input.shape.last == inputSize,
                     "\(cellName): input of shape \(input.shape) is not [batch, \(inputSize)] or [\(inputSize)]")
        let expected = input.rank == 1 ? [hiddenSize] : [input.shape[0], hiddenSize]
        for state in states.compactMap({ $0 }) {
            precondition(state.shape == expected, "\(cellName): state of shape \(state.shape) for input \(input.shape) is not \(expected)")
        }
    }

    /// `state`, or a zero state `[B, H]` (`[H]` for an unbatched input) in the input's dtype.
    func stateOrZeros(_ state: Variable?, for input: Variable) -> Variable {
        state ?? Variable(Tensor.zeros(Array(input.shape.dropLast()) + [hiddenSize], dtype: input.dtype))
    }

    public override var summary: String { "\(inputSize), \(hiddenSize)" + (biasIH == nil ? ", bias: false" : "") }
}

/// An Elman RNN cell (PyTorch's `nn.RNNCell`): `h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`, `act` tanh or ReLU.
///
/// Shapes: input `[B, inputSize]` or unbatched `[inputSize]`, state and output `[B, H]` (or `[H]`). Parameters
/// (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih` `[H, inputSize]`, `weight_hh` `[H, H]`, `bias_ih`
/// and `bias_hh` `[H]` unless `bias` is false.
///
/// ```swift
/// let cell = RNNCell(inputSize: 10, hiddenSize: 20)
/// var h = Variable(Tensor.zeros([3, 20]))
/// for x in inputs { h = cell(x, h) }   // x: [3, 10]
/// ```
public final class RNNCell: RecurrentCell {
    /// The nonlinearity.
    public let nonlinearity: RNNNonlinearity

    /// A cell from `inputSize` to `hiddenSize` with PyTorch's defaults.
    ///
    /// - Precondition: the sizes are non-negative.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh,
                dtype: DType = .float32, generator: RandomGenerator = .global) {
        self.nonlinearity = nonlinearity
        super.init("RNNCell", gates: 1, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }

    /// The next hidden state from `input` and `hidden` (zeros when nil).
    ///
    /// - Precondition: `input` is `[B, inputSize]` or `[inputSize]`; `hidden` is `[B, H]` or `[H]` to match.
    public func callAsFunction(_ input: Variable, _ hidden: Variable?) -> Variable {
        checkInput(input, states: [hidden])
        let h = stateOrZeros(hidden, for: input)
        return nonlinearity(weights.inputProjection(input) + weights.hiddenProjection(h))
    }

    /// The next hidden state from `input` and a zero state.
    public override func forward(_ input: Variable) -> Variable { self(input, nil) }

    public override var summary: String { super.summary + (nonlinearity == .tanh ? "" : ", nonlinearity: relu") }
}

/// A long short-term memory cell (PyTorch's `nn.LSTMCell`): gates `x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh` in the order
/// i, f, g, o, then ``lstmCell(gates:cell:)``: `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
///
/// Shapes: input `[B, inputSize]` or unbatched `[inputSize]`; `h`, `c` and the outputs `[B, H]` (or `[H]`). Parameters
/// (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih` `[4H, inputSize]`, `weight_hh` `[4H, H]`,
/// `bias_ih` and `bias_hh` `[4H]` unless `bias` is false.
///
/// ```swift
/// let cell = LSTMCell(inputSize: 10, hiddenSize: 20)
/// var state: (h: Variable, c: Variable)? = nil
/// for x in inputs { state = cell(x, state) }   // x: [3, 10]; state.h, state.c: [3, 20]
/// ```
public final class LSTMCell: RecurrentCell {
    /// A cell from `inputSize` to `hiddenSize` with PyTorch's defaults.
    ///
    /// - Precondition: the sizes are non-negative.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, dtype: DType = .float32, generator: RandomGenerator = .global) {
        super.init("LSTMCell", gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }

    /// The next hidden and cell states from `input` and `state` (zeros when nil).
    ///
    /// - Precondition: `input` is `[B, inputSize]` or `[inputSize]`; `h` and `c` are `[B, H]` or `[H]` to match.
    public func callAsFunction(_ input: Variable, _ state: (h: Variable, c: Variable)?) -> (h: Variable, c: Variable) {
        checkInput(input, states: [state?.h, state?.c])
        let h = stateOrZeros(state?.h, for: input), c = stateOrZeros(state?.c, for: input)
        return lstmCell(gates: weights.inputProjection(input) + weights.hiddenProjection(h), cell: c)
    }

    /// The next hidden state from `input` and zero states.
    public override func forward(_ input: Variable) -> Variable { self(input, nil).h }
}

/// A gated recurrent unit cell (PyTorch's `nn.GRUCell`): `xg = x·W_ihᵀ + b_ih` and `hg = h·W_hhᵀ + b_hh`, gate order
/// r, z, n, then ``gruCell(inputGates:hiddenGates:hidden:)``: `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`,
/// `n = tanh(x_n + r·h_n)`, `h' = (1 − z)·n + z·h`.
///
/// Shapes: input `[B, inputSize]` or unbatched `[inputSize]`, state and output `[B, H]` (or `[H]`). Parameters
/// (PyTorch's names and initialisation U(−1/√H, 1/√H)): `weight_ih` `[3H, inputSize]`, `weight_hh` `[3H, H]`,
/// `bias_ih` and `bias_hh` `[3H]` unless `bias` is false.
public final class GRUCell: RecurrentCell {
    /// A cell from `inputSize` to `hiddenSize` with PyTorch's defaults.
    ///
    /// - Precondition: the sizes are non-negative.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, dtype: DType = .float32, generator: RandomGenerator = .global) {
        super.init("GRUCell", gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }

    /// The next hidden state from `input` and `hidden` (zeros when nil).
    ///
    /// - Precondition: `input` is `[B, inputSize]` or `[inputSize]`; `hidden` is `[B, H]` or `[H]` to match.
    public func callAsFunction(_ input: Variable, _ hidden: Variable?) -> Variable {
        checkInput(input, states: [hidden])
        let h = stateOrZeros(hidden, for: input)
        return gruCell(inputGates: weights.inputProjection(input), hiddenGates: weights.hiddenProjection(h), hidden: h)
    }

    /// The next hidden state from `input` and a zero state.
    public override func forward(_ input: Variable) -> Variable { self(input, nil) }
}
