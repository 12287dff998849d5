/// A copy of `model` with every ``Linear`` replaced by its ``DynamicQuantizedLinear`` (PyTorch's
/// `quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`), nested ``Sequential``s included. The other layers
/// are the same instances as in `model`, so they share its state; the copy is in evaluation mode.
public func quantizeDynamic(_ model: Sequential) -> Sequential {
    Sequential(model.layers.map { layer -> Module in
        switch layer {
        case let linear as Linear: return DynamicQuantizedLinear(linear)
        case let inner as Sequential: return quantizeDynamic(inner)
        default: return layer
        }
    }).eval()
}
