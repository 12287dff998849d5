/// Something that updates parameters from their gradients: SGD, Adam, AdamW, RMSProp, Adagrad.
///
/// A training step is
///
/// ```swift
/// optimizer.zeroGrad()
/// let loss = crossEntropy(model(Variable(x)), y)
/// loss.backward()
/// optimizer.step()
/// ```
///
/// Learning-rate schedules drive an optimizer through ``learningRate`` and ``learningRates``, so
/// they work with every optimizer.
public protocol Optimizer: _DeprecatedParametersProperty {
    /// Every parameter, group by group, in the order the groups list them. State dictionaries
    /// number parameters by their position in this list.
    func parameters() -> [Variable]

    /// The learning rate of the first group; setting it sets every group's learning rate.
    var learningRate: Double { get set }

    /// The learning rate of each parameter group, in group order.
    var learningRates: [Double] { get set }

    /// Applies one update to every parameter whose `grad` is set; parameters without a
    /// gradient are left alone and get no state.
    func step()

    /// Forgets the gradient of every parameter (sets it to nil, as PyTorch's `set_to_none`).
    func zeroGrad()

    /// The optimizer's state and hyper-parameters, for checkpoints.
    ///
    /// Keys are `state.<i>.<name>` for the per-parameter state of parameter `i` of ``parameters()``
    /// (`state.<i>.step` is a rank-0 tensor), and `param_groups.<g>.<name>` for the
    /// hyper-parameters of group `g` (`lr`, `weight_decay`, ...; `params` lists its parameter indices).
    func stateDict() -> [String: Tensor]

    /// Replaces state and hyper-parameters by those of a dictionary made by ``stateDict()``.
    ///
    /// Nothing changes when it throws.
    /// - Throws: ``OptimizerStateError`` on a missing or unexpected key, a shape mismatch or an
    ///   invalid value.
    func loadStateDict(_ dictionary: [String: Tensor]) throws
}
