/// A copy of `model` in evaluation mode with each layer for which `replacement` gives a module replaced by it,
/// nested ``Sequential``s rebuilt the same way.
func replacingLayers(of model: Sequential, _ replacement: (Module) -> Module?) -> Sequential {
    replacingLayers(of: model) { layer, _ in replacement(layer).map { LayerReplacement(layer: $0, absorbed: 0) } }
}

/// What replaces a layer: a module, and how many of the layers after it it also takes the place of (a fusion, such
/// as a convolution that applies the ReLU following it); each of those is replaced by an ``Identity``, so indices
/// and state-dict names stay.
struct LayerReplacement {
    let layer: Module
    let absorbed: Int
}

/// A copy of `model` in evaluation mode with each layer for which `replacement(layer, following)` gives a replacement
/// replaced by it (`following`: the layers after it in the same ``Sequential``), nested ``Sequential``s rebuilt the
/// same way.
func replacingLayers(of model: Sequential, _ replacement: (Module, ArraySlice<Module>) -> LayerReplacement?) -> Sequential {
    let source = model.layers
    var layers: [Module] = []
    var index = 0
    while index < source.count {
        let layer = source[index]
        if let inner = layer as? Sequential {
            layers.append(replacingLayers(of: inner, replacement))
        } else if let replaced = replacement(layer, source[(index + 1)...]) {
            precondition(replaced.absorbed <= source.count - index - 1, "replacingLayers: a fusion past the end of the Sequential")
            layers.append(replaced.layer)
            layers.append(contentsOf: (0..<replaced.absorbed).map { _ in Identity() })
            index += replaced.absorbed
        } else {
            layers.append(layer)
        }
        index += 1
    }
    return Sequential(layers).eval()
}
