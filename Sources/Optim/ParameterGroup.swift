/// A set of parameters that share hyper-parameters, as PyTorch's `param_groups`.
///
/// Values not overridden come from the optimizer's own arguments:
///
/// ```swift
/// let optimizer = SGD(groups: [
///     ParameterGroup(parameters: backbone.parameters(), learningRate: 1e-4),
///     ParameterGroup(parameters: head.parameters(), weightDecay: 0) { $0.momentum = 0.5 },
/// ], learningRate: 1e-2, momentum: 0.9, weightDecay: 5e-4)
/// ```
public struct ParameterGroup<Options: OptimizerOptions> {
    /// The parameters of this group, in update and state-dictionary order.
    public var parameters: [Variable]
    /// The hyper-parameters of this group. They hold the group's resolved values once the group
    /// belongs to an optimizer, and may be changed between steps.
    public var options: Options
    let overrides: (inout Options) -> Void

    /// A group whose hyper-parameters are the optimizer's, except those given here.
    ///
    /// - Parameters:
    ///   - parameters: the variables this group updates.
    ///   - learningRate: overrides the optimizer's learning rate for this group.
    ///   - weightDecay: overrides the optimizer's weight decay for this group.
    ///   - overrides: changes any other hyper-parameter, e.g. `{ $0.momentum = 0 }`.
    public init(parameters: [Variable], learningRate: Double? = nil, weightDecay: Double? = nil,
                overrides: @escaping (inout Options) -> Void = { _ in }) {
        self.parameters = parameters
        self.options = Options()
        self.overrides = { options in
            if let learningRate { options.learningRate = learningRate }
            if let weightDecay { options.weightDecay = weightDecay }
            overrides(&options)
        }
    }

    /// This group with its options set to `defaults` plus the group's overrides.
    func resolved(defaults: Options) -> ParameterGroup {
        var group = self
        group.options = defaults
        overrides(&group.options)
        return group
    }
}
