import AutoGrad

/// Structured pruning of a ``Linear`` layer's output units or a ``Conv2d`` layer's output channels: the units
/// (channels) whose weight rows (filters) have the largest L1 or L2 norm are kept (PyTorch's `ln_structured` with
/// `dim=0` chooses the same ones), and the layer and the layers that read it are rebuilt smaller and dense, so the
/// model computes the same function of the kept units with fewer parameters and faster products, unlike
/// unstructured masks.
public enum StructuredPruning {
    /// The norm that ranks units.
    public enum Norm: Sendable { case l1, l2 }

    /// The indices, in increasing order, of the `keep` rows of `weight` (`[units, inputs]`) of largest norm
    /// (ties: the earlier row).
    public static func strongestRows(_ weight: Tensor, keep: Int, norm: Norm) -> [Int] {
        precondition(weight.rank == 2 && (0...weight.shape[0]).contains(keep),
                     "StructuredPruning.strongestRows: keep \(keep) of the rows of a weight of shape \(weight.shape)")
        let (rows, columns) = (weight.shape[0], weight.shape[1])
        let w = weight.doubles
        let norms = (0..<rows).map { j in
            w[j * columns..<(j + 1) * columns].reduce(0) { $0 + (norm == .l1 ? Swift.abs($1) : $1 * $1) }
        }
        return Array((0..<rows).sorted { (norms[$0], -$0) > (norms[$1], -$1) }.prefix(keep)).sorted()
    }

    /// Whether `layer` maps each element on its own (activations, dropout), so that removing a unit or channel
    /// before it removes exactly that unit or channel after it.
    static func actsElementwise(_ layer: Module) -> Bool {
        layer is ReLU || layer is LeakyReLU || layer is ELU || layer is GELU || layer is SiLU || layer is Sigmoid
            || layer is Tanh || layer is Softplus || layer is Dropout || layer is Identity
    }

    /// A copy of `model` in which the ``Linear`` at `index` keeps only its `keep` strongest output units and the
    /// next ``Linear`` only the matching inputs. The layers between must act elementwise (activations, dropout),
    /// so that dropping a unit drops exactly one input of the next Linear; the other layers are shared with `model`.
    /// For a convolution's channels see ``removeChannels(of:at:keep:norm:)``.
    ///
    /// - Precondition: `model[index]` is a Linear, a later layer is a Linear, and only elementwise layers lie between.
    public static func removeUnits(of model: Sequential, at index: Int, keep: Int, norm: Norm = .l1) -> Sequential {
        let layers = model.layers
        guard index >= 0, index < layers.count, let first = layers[index] as? Linear else {
            preconditionFailure("StructuredPruning.removeUnits: layer \(index) of \(layers.count) is not a Linear")
        }
        guard let nextIndex = layers.indices.first(where: { $0 > index && layers[$0] is Linear }) else {
            preconditionFailure("StructuredPruning.removeUnits: no Linear after layer \(index) to rewire")
        }
        for between in layers[(index + 1)..<nextIndex] where !actsElementwise(between) {
            preconditionFailure("StructuredPruning.removeUnits: \(type(of: between)) between layers \(index) and \(nextIndex) is not elementwise")
        }
        let next = layers[nextIndex] as! Linear
        let kept = strongestRows(first.weight.value, keep: keep, norm: norm)
        let smaller = Linear(first.inFeatures, keep, bias: first.bias != nil, dtype: first.weight.dtype)
        smaller.weight.value = first.weight.value.indexSelected(axis: 0, indices: kept)
        if let bias = first.bias { smaller.bias!.value = bias.value.indexSelected(axis: 0, indices: kept) }
        let rewired = Linear(keep, next.outFeatures, bias: next.bias != nil, dtype: next.weight.dtype)
        rewired.weight.value = next.weight.value.indexSelected(axis: 1, indices: kept)
        if let bias = next.bias { rewired.bias!.value = bias.value }
        var result = layers
        result[index] = smaller
        result[nextIndex] = rewired
        return Sequential(result)
    }
}
