/// The hyper-parameters of one optimizer, as held by each ``ParameterGroup``.
///
/// `init()` gives PyTorch's defaults. ``fields`` names each hyper-parameter for state dictionaries.
public protocol OptimizerOptions {
    /// PyTorch's default hyper-parameters.
    init()
    /// The step size (PyTorch's `lr`).
    var learningRate: Double { get set }
    /// The weight-decay coefficient (PyTorch's `weight_decay`).
    var weightDecay: Double { get set }
    /// The hyper-parameters under their PyTorch names, as stored in state dictionaries.
    static var fields: [OptionField<Self>] { get }
}

/// One named hyper-parameter of an ``OptimizerOptions`` type, and how it is stored in a tensor.
public struct OptionField<Options> {
    /// The PyTorch name, such as `lr` or `betas`.
    public let name: String
    /// The shape of the stored tensor (`[]` for a number or flag, `[2]` for a pair).
    public let shape: [Int]
    let read: (Options) -> [Double]
    let write: (inout Options, [Double]) -> Bool

    /// A real-valued hyper-parameter, stored as a rank-0 tensor.
    public static func number(_ name: String, _ keyPath: WritableKeyPath<Options, Double>) -> OptionField {
        OptionField(name: name, shape: [], read: { [$0[keyPath: keyPath]] },
                    write: { options, values in options[keyPath: keyPath] = values[0]; return true })
    }

    /// A flag, stored as a rank-0 tensor holding 0 or 1.
    public static func flag(_ name: String, _ keyPath: WritableKeyPath<Options, Bool>) -> OptionField {
        OptionField(name: name, shape: [], read: { [$0[keyPath: keyPath] ? 1 : 0] },
                    write: { options, values in
                        guard values[0] == 0 || values[0] == 1 else { return false }
                        options[keyPath: keyPath] = values[0] == 1
                        return true
                    })
    }

    /// A pair such as Adam's betas, stored as a tensor of shape `[2]`.
    public static func pair(_ name: String, _ keyPath: WritableKeyPath<Options, (Double, Double)>) -> OptionField {
        OptionField(name: name, shape: [2], read: { [$0[keyPath: keyPath].0, $0[keyPath: keyPath].1] },
                    write: { options, values in options[keyPath: keyPath] = (values[0], values[1]); return true })
    }
}
