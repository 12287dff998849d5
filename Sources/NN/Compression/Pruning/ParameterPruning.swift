import AutoGrad

/// Pruning of one parameter by a mask, as `torch.nn.utils.prune` keeps it: while pruned, the module's parameter
/// `name` reads as `name_orig · name_mask` (recomputed at every read, so forward passes, gradients and optimiser
/// steps all see the mask), its state dict holds `name_orig` (the trained values, still the same variable an
/// optimiser holds) and the buffer `name_mask` instead of `name`, and ``removePruning(_:)`` makes it permanent.
///
/// ```swift
/// let fc = Linear(4, 3)
/// fc.prune("weight", mask: mask)           // stateDict(): weight_orig, weight_mask, bias
/// fc.removePruning("weight")               // stateDict(): weight (masked values), bias
/// ```
extension Module {
    /// The box of the direct parameter `name`, pruned or not.
    func parameterBox(named name: String) -> (any ParameterBox)? {
        for (member, entry) in directMembers().map({ ($0.name, $0.member) }) {
            guard case .parameter(let box) = entry, box.variable != nil else { continue }
            if member == name && box.mask == nil || member == name + "_orig" && box.mask != nil { return box }
        }
        return nil
    }

    private func prunableBox(_ name: String, _ op: String) -> any ParameterBox {
        guard let box = parameterBox(named: name) else {
            preconditionFailure("\(op): \(type(of: self)) has no parameter \"\(name)\"")
        }
        return box
    }

    /// Prunes the direct parameter `name` by `mask` (1 keeps an entry, 0 removes it); a parameter already pruned
    /// keeps the product of both masks (PyTorch's `PruningContainer`).
    ///
    /// - Precondition: the parameter exists and `mask` has its shape and holds only 0 and 1.
    public func prune(_ name: String, mask: Tensor) {
        let box = prunableBox(name, "prune")
        let original = box.variable!
        precondition(mask.shape == original.shape,
                     "prune: mask of shape \(mask.shape) for \(type(of: self)).\(name) of shape \(original.shape)")
        precondition(mask.doubles.allSatisfy { $0 == 0 || $0 == 1 }, "prune: the mask for \(type(of: self)).\(name) holds values other than 0 and 1")
        let mask = mask.to(original.dtype)
        if let current = box.mask {
            current.wrappedValue = current.wrappedValue * mask
        } else {
            box.mask = Buffer(wrappedValue: mask)
        }
    }

    /// Whether the direct parameter `name` is pruned.
    public func isPruned(_ name: String) -> Bool { parameterBox(named: name)?.mask != nil }

    /// The mask of the pruned direct parameter `name`, nil when it is not pruned.
    public func pruningMask(_ name: String) -> Tensor? { parameterBox(named: name)?.mask?.wrappedValue }

    /// Makes the pruning of `name` permanent (PyTorch's `prune.remove`): the parameter becomes the masked values,
    /// in the same variable, and the mask is dropped.
    ///
    /// - Precondition: `name` is pruned.
    public func removePruning(_ name: String) {
        let box = prunableBox(name, "removePruning")
        guard let mask = box.mask else { preconditionFailure("removePruning: \(type(of: self)).\(name) is not pruned") }
        let original = box.variable!
        original.value = original.value * mask.wrappedValue
        box.mask = nil
    }
}
