/// A copy of `model` with every ``Linear`` replaced by its ``DynamicQuantizedLinear`` (PyTorch's
/// `quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`), nested ``Sequential``s included. The other layers
/// are the same instances as in `model`, so they share its state; the copy is in evaluation mode.
public func quantizeDynamic(_ model: Sequential) -> Sequential {
    replacingLayers(of: model) { layer in (layer as? Linear).map(DynamicQuantizedLinear.init) }
}
