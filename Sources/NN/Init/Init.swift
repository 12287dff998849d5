import Foundation

/// Weight initialisers (PyTorch's `torch.nn.init`). Each overwrites a variable's value in place,
/// keeping its shape and dtype, without recording a graph, and draws from `generator`
/// (`RandomGenerator.global` by default, so `RandomGenerator.manualSeed(_:)` makes runs repeatable).
///
/// ```swift
/// let layer = Linear(256, 128)
/// Init.kaimingNormal(layer.weight, nonlinearity: .relu)
/// Init.zeros(layer.bias!)
/// ```
public enum Init {
    /// Which fan the Kaiming initialisers preserve the variance of.
    public enum FanMode: Sendable {
        /// Preserves the variance of activations in the forward pass (the default).
        case fanIn
        /// Preserves the variance of gradients in the backward pass.
        case fanOut
    }

    /// The non-linearity that follows a layer, for ``calculateGain(_:)``.
    public enum Nonlinearity: Sendable, Equatable {
        case linear, conv, sigmoid, tanh, relu, selu
        /// Leaky ReLU with the given negative slope (PyTorch's default for `kaiming_*` is 0).
        case leakyReLU(negativeSlope: Double)
    }

    /// The recommended gain for a non-linearity (PyTorch's `calculate_gain`): 1 for linear, conv and
    /// sigmoid; 5/3 for tanh; √2 for ReLU; √(2 / (1 + a²)) for leaky ReLU with slope `a`; 3/4 for SELU.
    public static func calculateGain(_ nonlinearity: Nonlinearity) -> Double {
        switch nonlinearity {
        case .linear, .conv, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return 2.0.squareRoot()
        case .leakyReLU(let a): return (2 / (1 + a * a)).squareRoot()
        case .selu: return 0.75
        }
    }

    /// `(fanIn, fanOut)` of a weight of this shape: for `[out, in]` it is `(in, out)`; for a
    /// convolution weight `[out, in, k…]` both are multiplied by the receptive field `Π k`.
    ///
    /// - Precondition: the shape has at least two dimensions.
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "Init.fans: fan in and fan out cannot be computed for a tensor of shape \(shape) (fewer than 2 dimensions)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    private static func fill(_ variable: Variable, _ make: (_ shape: [Int], _ dtype: DType) -> Tensor) {
        Graph.noGrad { variable.value = make(variable.shape, variable.dtype) }
    }

    /// Fills with draws from U(`low`, `high`).
    public static func uniform(_ variable: Variable, low: Double = 0, high: Double = 1, generator: RandomGenerator = .global) {
        fill(variable) { Tensor.uniform($0, low: low, high: high, dtype: $1, generator: generator) }
    }

    /// Fills with draws from N(`mean`, `std`²).
    public static func normal(_ variable: Variable, mean: Double = 0, std: Double = 1, generator: RandomGenerator = .global) {
        fill(variable) { Tensor.normal($0, mean: mean, std: std, dtype: $1, generator: generator) }
    }

    /// Fills with `value`.
    public static func constant(_ variable: Variable, _ value: Double) {
        fill(variable) { Tensor.full($0, value, dtype: $1) }
    }

    /// Fills with zeros.
    public static func zeros(_ variable: Variable) { constant(variable, 0) }

    /// Fills with ones.
    public static func ones(_ variable: Variable) { constant(variable, 1) }

    /// Glorot uniform: U(−b, b) with `b = gain·√(6 / (fanIn + fanOut))`.
    public static func xavierUniform(_ variable: Variable, gain: Double = 1, generator: RandomGenerator = .global) {
        let (fanIn, fanOut) = fans(of: variable.shape)
        let bound = gain * (6 / Double(fanIn + fanOut)).squareRoot()
        uniform(variable, low: -bound, high: bound, generator: generator)
    }

    /// Glorot normal: N(0, σ²) with `σ = gain·√(2 / (fanIn + fanOut))`.
    public static func xavierNormal(_ variable: Variable, gain: Double = 1, generator: RandomGenerator = .global) {
        let (fanIn, fanOut) = fans(of: variable.shape)
        normal(variable, std: gain * (2 / Double(fanIn + fanOut)).squareRoot(), generator: generator)
    }

    /// The standard deviation He initialisation targets: `gain / √fan`.
    private static func kaimingStd(_ shape: [Int], mode: FanMode, nonlinearity: Nonlinearity) -> Double {
        let (fanIn, fanOut) = fans(of: shape)
        let fan = mode == .fanIn ? fanIn : fanOut
        precondition(fan > 0, "Init.kaiming: zero fan for shape \(shape)")
        return calculateGain(nonlinearity) / Double(fan).squareRoot()
    }

    /// He uniform: U(−b, b) with `b = √3 · gain / √fan`.
    ///
    /// - Parameters:
    /// PyTorch's `kaiming_uniform_(w, a=s)` is `kaimingUniform(w, nonlinearity: .leakyReLU(negativeSlope: s))`.
    ///
    /// - Parameters:
    ///   - variable: the weight to fill in place.
    ///   - mode: which fan to use.
    ///   - nonlinearity: gives the gain; PyTorch's default is leaky ReLU with slope 0 (gain √2).
    ///   - generator: where the values come from.
    public static func kaimingUniform(_ variable: Variable, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyReLU(negativeSlope: 0), generator: RandomGenerator = .global) {
        let bound = 3.0.squareRoot() * kaimingStd(variable.shape, mode: mode, nonlinearity: nonlinearity)
        uniform(variable, low: -bound, high: bound, generator: generator)
    }

    /// He normal: N(0, σ²) with `σ = gain / √fan`; parameters as ``kaimingUniform(_:mode:nonlinearity:generator:)``.
    public static func kaimingNormal(_ variable: Variable, mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyReLU(negativeSlope: 0), generator: RandomGenerator = .global) {
        normal(variable, std: kaimingStd(variable.shape, mode: mode, nonlinearity: nonlinearity), generator: generator)
    }
}
