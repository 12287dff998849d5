import AutoGrad

/// A copy of `model` with every ``Conv2d`` replaced by a ``StaticQuantizedConv2d`` whose input map comes from
/// calibration, and every ``Linear`` by a ``DynamicQuantizedLinear`` — PyTorch's eager-mode static post-training
/// quantisation (`prepare`, calibration passes, `convert`) with a `MinMaxObserver` on each convolution's input.
/// The layers right after a convolution in the same ``Sequential`` that only clamp or pool its output — a ``ReLU``,
/// a ``MaxPool2d`` of 2 × 2 windows at stride 2 without padding, or both in either order — are fused into it (PyTorch's
/// `fuse_modules` fuses the ReLU): the convolution applies them as it dequantises its output, and ``Identity`` layers
/// take their places.
///
/// `model` runs once per calibration batch, in evaluation mode and without recording, while a ``MinMaxObserver``
/// collects the range of each convolution's input; the copy then quantises with those ranges. Its Linear layers
/// are quantised dynamically, by the range of each call's input: that costs one pass over an input far smaller
/// than a convolution's and needs no calibration, and it adapts to inputs outside the calibrated range, which a
/// static map would clip. Layers are replaced inside ``Sequential``s, nested ones included; the other layers are
/// the same instances as in `model`, so they share its state. `model` and the copy are left in evaluation mode;
/// the quantised layers compute no gradients.
///
/// ```swift
/// let batches = (0..<8).map { images.sliced(axis: 0, start: $0 * 64, end: $0 * 64 + 64) }
/// let int8 = quantizeStatic(model, calibration: batches)
/// let logits = int8(Variable(test))
/// ```
///
/// - Precondition: `calibration` holds at least one batch of `model`'s input (`float32`) and every convolution
///   of `model` was reached by it.
public func quantizeStatic<Batches: Sequence<Tensor>>(_ model: Sequential, calibration: Batches) -> Sequential {
    let observers = calibrate(model, calibration)
    return replacingLayers(of: model) { layer, following in
        switch layer {
        case let conv as Conv2d:
            guard let observer = observers[ObjectIdentifier(conv)], observer.batches > 0 else {
                preconditionFailure("quantizeStatic: calibration never reached Conv2d(\(conv.summary))")
            }
            let fusion = StaticQuantizedConv2d.Fusion(following: following)
            return LayerReplacement(layer: StaticQuantizedConv2d(conv, input: observer.quantization, fusing: fusion),
                                    absorbed: fusion.layerCount)
        case let linear as Linear: return LayerReplacement(layer: DynamicQuantizedLinear(linear), absorbed: 0)
        default: return nil
        }
    }
}

/// The range of each convolution's input over `batches`, by the convolution's identity.
private func calibrate<Batches: Sequence<Tensor>>(_ model: Sequential, _ batches: Batches) -> [ObjectIdentifier: MinMaxObserver] {
    var observers: [ObjectIdentifier: MinMaxObserver] = [:]
    let handles = model.namedModules().compactMap { $0.module as? Conv2d }.map { conv in
        observers[ObjectIdentifier(conv)] = MinMaxObserver()
        return conv.registerForwardPreHook { module, x in
            observers[ObjectIdentifier(module)]?.observe(x.value)
            return nil
        }
    }
    defer { for handle in handles { handle.remove() } }
    model.eval()
    var count = 0
    Graph.noGrad {
        for batch in batches {
            _ = model(Variable(batch))
            count += 1
        }
    }
    precondition(count > 0, "quantizeStatic: no calibration batch")
    return observers
}
