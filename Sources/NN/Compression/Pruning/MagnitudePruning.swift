import AutoGrad

/// Unstructured magnitude pruning (`torch.nn.utils.prune.l1_unstructured` and `global_unstructured` with
/// `L1Unstructured`): the entries of smallest absolute value are masked.
public enum MagnitudePruning {
    /// A parameter to prune: a module and the name of one of its direct parameters.
    public typealias Target = (module: Module, name: String)

    /// Masks `amount` (a fraction in [0, 1]) of the entries of `module.name` still unpruned, smallest |w| first,
    /// on top of any earlier mask; `round(amount · remaining)` entries, as PyTorch counts them.
    public static func prune(_ module: Module, _ name: String, amount: Double) {
        prune([(module, name)], amount: amount)
    }

    /// Masks `amount` of the entries still unpruned over all `targets` together, smallest |w| first: layers whose
    /// weights are small lose more (PyTorch's `global_unstructured`).
    ///
    /// - Precondition: `0 ≤ amount ≤ 1`; every target names a direct parameter of its module.
    public static func prune(_ targets: [Target], amount: Double) {
        precondition((0...1).contains(amount), "MagnitudePruning.prune: amount \(amount) is not in [0, 1]")
        let states = targets.map { state(of: $0) }
        let remaining = states.reduce(0) { $0 + $1.mask.filter { $0 != 0 }.count }
        let count = Int((amount * Double(remaining)).rounded())
        applyMasks(targets, states: states, pruning: count)
    }

    /// Prunes `targets` together until `sparsity` (a fraction of all their entries) is masked, counting what is
    /// already masked: the step of a gradual schedule (``PolynomialSparsitySchedule``). Nothing is unmasked when
    /// the sparsity asked for is below the current one.
    public static func prune(_ targets: [Target], toSparsity sparsity: Double) {
        precondition((0...1).contains(sparsity), "MagnitudePruning.prune: sparsity \(sparsity) is not in [0, 1]")
        let states = targets.map { state(of: $0) }
        let total = states.reduce(0) { $0 + $1.mask.count }
        let masked = states.reduce(0) { $0 + $1.mask.filter { $0 == 0 }.count }
        applyMasks(targets, states: states, pruning: Swift.max(0, Int((sparsity * Double(total)).rounded()) - masked))
    }

    /// The fraction of entries masked over `targets` (0 for targets not pruned).
    public static func sparsity(_ targets: [Target]) -> Double {
        let states = targets.map { state(of: $0) }
        let total = states.reduce(0) { $0 + $1.mask.count }
        return total == 0 ? 0 : Double(states.reduce(0) { $0 + $1.mask.filter { $0 == 0 }.count }) / Double(total)
    }

    /// A target's values and current mask (all ones when unpruned).
    private static func state(of target: Target) -> (values: [Double], mask: [Double]) {
        guard let box = target.module.parameterBox(named: target.name) else {
            preconditionFailure("MagnitudePruning: \(type(of: target.module)) has no parameter \"\(target.name)\"")
        }
        let values = box.variable!.value.doubles
        return (values, box.mask?.wrappedValue.doubles ?? [Double](repeating: 1, count: values.count))
    }

    /// Masks the `count` unmasked entries of smallest magnitude over all targets (ties: the earlier target and entry
    /// first): every entry below the count-th smallest magnitude, then entries equal to it in order.
    private static func applyMasks(_ targets: [Target], states: [(values: [Double], mask: [Double])], pruning count: Int) {
        var masks = states.map(\.mask)
        if count > 0 {
            var magnitudes: [Double] = []
            for state in states { for (i, value) in state.values.enumerated() where state.mask[i] != 0 { magnitudes.append(Swift.abs(value)) } }
            magnitudes.sort()
            let threshold = magnitudes[Swift.min(count, magnitudes.count) - 1]
            var ties = Swift.min(count, magnitudes.count) - magnitudes.prefix { $0 < threshold }.count
            for (t, state) in states.enumerated() {
                for (i, value) in state.values.enumerated() where state.mask[i] != 0 {
                    let magnitude = Swift.abs(value)
                    if magnitude < threshold {
                        masks[t][i] = 0
                    } else if magnitude == threshold && ties > 0 {
                        masks[t][i] = 0
                        ties -= 1
                    }
                }
            }
        }
        for (t, target) in targets.enumerated() {
            let shape = target.module.parameterBox(named: target.name)!.variable!.shape
            target.module.prune(target.name, mask: Tensor(shape: shape, scalars: masks[t]))
        }
    }
}
