/// A copy of `model` in evaluation mode with each layer for which `replacement` gives a module replaced by it,
/// nested ``Sequential``s rebuilt the same way.
func replacingLayers(of model: Sequential, _ replacement: (Module) -> Module?) -> Sequential {
    Sequential(model.layers.map { layer -> Module in
        if let inner = layer as? Sequential { return replacingLayers(of: inner, replacement) }
        return replacement(layer) ?? layer
    }).eval()
}
