import AutoGrad

extension StructuredPruning {
    /// A copy of `model` in which the ``Conv2d`` at `index` keeps only its `keep` output channels of strongest
    /// filters (norm over `[inChannels, kH, kW]`), and what reads those channels is rewired to the kept ones: a
    /// ``BatchNorm2d`` loses the other channels' weight, bias and running statistics, and the first consumer — the
    /// next ``Conv2d`` (its input channels) or a ``Flatten`` followed by a ``Linear`` (the input columns of each
    /// dropped channel's `H·W` block) — loses their inputs. Between them may lie layers that act per channel:
    /// activations, dropout, ``Dropout2d``, ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``.
    ///
    /// The smaller model computes exactly what `model` computes with the dropped channels' contributions to the
    /// consumer zeroed (up to the order of sums). The rebuilt layers keep the originals' training mode; the other
    /// layers are shared with `model`.
    ///
    /// ```swift
    /// // W2: Conv2d(1, 32, 3), ReLU, MaxPool2d(2), Flatten, Linear(5408, 128), ReLU, Linear(128, 10)
    /// let smaller = StructuredPruning.removeChannels(of: model, at: 0, keep: 16, norm: .l2)
    /// // Conv2d(1, 16, 3), …, Linear(2704, 128), …
    /// ```
    ///
    /// - Precondition: `model[index]` is a Conv2d with `groups == 1`; `1 ≤ keep ≤ outChannels`; a consumer follows
    ///   with only per-channel layers and BatchNorm2d before it; a consuming Conv2d has `groups == 1`; a Flatten
    ///   flattens every dimension after the batch and the Linear's inputs are a multiple of the channels.
    public static func removeChannels(of model: Sequential, at index: Int, keep: Int, norm: Norm = .l1) -> Sequential {
        let layers = model.layers
        guard index >= 0, index < layers.count, let conv = layers[index] as? Conv2d else {
            preconditionFailure("StructuredPruning.removeChannels: layer \(index) of \(layers.count) is not a Conv2d")
        }
        precondition(conv.groups == 1, "StructuredPruning.removeChannels: Conv2d at \(index) has groups \(conv.groups); only groups 1 is pruned")
        precondition(keep >= 1 && keep <= conv.outChannels,
                     "StructuredPruning.removeChannels: keep \(keep) of the \(conv.outChannels) channels of Conv2d at \(index)")
        let shape = conv.weight.shape
        let kept = strongestRows(conv.weight.value.reshaped([shape[0], shape[1] * shape[2] * shape[3]]), keep: keep, norm: norm)
        var result = layers
        result[index] = resized(conv, outputs: kept)
        var position = index + 1
        while position < layers.count {
            switch layers[position] {
            case let batchNorm as BatchNorm2d:
                result[position] = selecting(kept, of: batchNorm)
            case let next as Conv2d:
                precondition(next.groups == 1, "StructuredPruning.removeChannels: the Conv2d at \(position) that reads layer \(index) has groups \(next.groups)")
                result[position] = resized(next, inputs: kept)
                return Sequential(result)
            case let flatten as Flatten:
                precondition(flatten.startAxis == 1 && (flatten.endAxis == -1 || flatten.endAxis == 3),
                             "StructuredPruning.removeChannels: Flatten at \(position) (axes \(flatten.startAxis)…\(flatten.endAxis)) does not flatten [C, H, W]")
                guard let linearIndex = layers.indices.first(where: { $0 > position && layers[$0] is Linear }) else {
                    preconditionFailure("StructuredPruning.removeChannels: no Linear after the Flatten at \(position)")
                }
                for between in layers[(position + 1)..<linearIndex] where !actsElementwise(between) {
                    preconditionFailure("StructuredPruning.removeChannels: \(type(of: between)) between the Flatten at \(position) and the Linear at \(linearIndex) is not elementwise")
                }
                let linear = layers[linearIndex] as! Linear
                let plane = linear.inFeatures / conv.outChannels
                precondition(plane * conv.outChannels == linear.inFeatures,
                             "StructuredPruning.removeChannels: Linear at \(linearIndex) has \(linear.inFeatures) inputs, not a multiple of the \(conv.outChannels) channels of Conv2d at \(index)")
                result[linearIndex] = resized(linear, inputs: kept.flatMap { $0 * plane..<($0 + 1) * plane })
                return Sequential(result)
            case let layer where actsElementwise(layer) || layer is Dropout2d || layer is MaxPool2d || layer is AvgPool2d
                || layer is AdaptiveAvgPool2d:
                break
            case let layer:
                preconditionFailure("StructuredPruning.removeChannels: \(type(of: layer)) at \(position) after Conv2d at \(index) does not act per channel")
            }
            position += 1
        }
        preconditionFailure("StructuredPruning.removeChannels: no Conv2d or Flatten and Linear after the Conv2d at \(index) to rewire")
    }

    /// `conv` with only the filters `outputs`, or only the input channels `inputs`, of its weight (and bias).
    private static func resized(_ conv: Conv2d, outputs: [Int]? = nil, inputs: [Int]? = nil) -> Conv2d {
        var weight = conv.weight.value, bias = conv.bias?.value
        if let outputs {
            weight = weight.indexSelected(axis: 0, indices: outputs)
            bias = bias?.indexSelected(axis: 0, indices: outputs)
        }
        if let inputs { weight = weight.indexSelected(axis: 1, indices: inputs) }
        // A generator of its own: the discarded initial weights should not advance the global one.
        let smaller = Conv2d(weight.shape[1], weight.shape[0], kernelSize: conv.kernelSize, stride: conv.stride,
                             padding: conv.padding, dilation: conv.dilation, bias: bias != nil, dtype: conv.weight.dtype,
                             generator: RandomGenerator(seed: 0))
        smaller.weight.value = weight
        if let bias { smaller.bias!.value = bias }
        return smaller.train(conv.isTraining)
    }

    /// `linear` with only the input columns `inputs`.
    private static func resized(_ linear: Linear, inputs: [Int]) -> Linear {
        let smaller = Linear(inputs.count, linear.outFeatures, bias: linear.bias != nil, dtype: linear.weight.dtype,
                             generator: RandomGenerator(seed: 0))
        smaller.weight.value = linear.weight.value.indexSelected(axis: 1, indices: inputs)
        if let bias = linear.bias { smaller.bias!.value = bias.value }
        return smaller.train(linear.isTraining)
    }

    /// `batchNorm` with only the channels `channels` of its affine parameters and running statistics.
    private static func selecting(_ channels: [Int], of batchNorm: BatchNorm2d) -> BatchNorm2d {
        let dtype = batchNorm.weight?.dtype ?? batchNorm.runningMean?.dtype ?? .float32
        let smaller = BatchNorm2d(channels.count, eps: batchNorm.eps, momentum: batchNorm.momentum,
                                  affine: batchNorm.weight != nil, trackRunningStats: batchNorm.trackRunningStats, dtype: dtype)
        // Every per-channel entry (weight, bias, running_mean, running_var) is selected; num_batches_tracked is kept.
        let state = batchNorm.storedStateDict().mapValues { value -> StoredTensor in
            guard case .float(let tensor) = value, tensor.shape == [batchNorm.numFeatures] else { return value }
            return .float(tensor.indexSelected(axis: 0, indices: channels))
        }
        do { try smaller.loadStateDict(stored: state) } catch {
            preconditionFailure("StructuredPruning.removeChannels: BatchNorm2d state does not fit its copy: \(error)")
        }
        return smaller.train(batchNorm.isTraining)
    }
}
