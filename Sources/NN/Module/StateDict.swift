import Foundation

/// Why ``Module/loadStateDict(_:strict:)`` refused a state dictionary; all problems are listed at once.
public struct LoadStateDictError: Error, Equatable, CustomStringConvertible {
    /// One tensor whose shape differs from the module's.
    public struct ShapeMismatch: Equatable, Sendable {
        public let key: String
        /// The shape the module has.
        public let expected: [Int]
        /// The shape in the state dictionary.
        public let found: [Int]
    }

    /// Names the module has but the dictionary lacks (reported when `strict`).
    public let missingKeys: [String]
    /// Names in the dictionary that the module does not have (reported when `strict`).
    public let unexpectedKeys: [String]
    /// Tensors whose shapes differ (always reported).
    public let shapeMismatches: [ShapeMismatch]

    public var description: String {
        var lines = ["error loading state dictionary:"]
        if !missingKeys.isEmpty { lines.append("  missing keys: " + missingKeys.map { "\"\($0)\"" }.joined(separator: ", ")) }
        if !unexpectedKeys.isEmpty { lines.append("  unexpected keys: " + unexpectedKeys.map { "\"\($0)\"" }.joined(separator: ", ")) }
        for m in shapeMismatches {
            lines.append("  size mismatch for \"\(m.key)\": the module has shape \(m.expected), the checkpoint has shape \(m.found)")
        }
        return lines.joined(separator: "\n")
    }
}

/// What a non-strict load skipped (PyTorch's `_IncompatibleKeys`).
public struct LoadStateDictResult: Equatable, Sendable {
    /// Names the module has but the dictionary lacked; those members kept their values.
    public let missingKeys: [String]
    /// Names in the dictionary that the module does not have; they were ignored.
    public let unexpectedKeys: [String]
}

extension Module {
    /// Where each state entry lives, under every name it has (shared members appear under each name).
    private func stateSlots() -> [(name: String, member: Member)] {
        var result: [(name: String, member: Member)] = []
        var path: Set<ObjectIdentifier> = []
        func visit(_ module: Module, _ prefix: String) {
            guard path.insert(ObjectIdentifier(module)).inserted else { return }   // a cycle: skip
            defer { path.remove(ObjectIdentifier(module)) }
            for (name, member) in module.directMembers() {
                switch member {
                case .parameter(let box): if box.variable != nil { result.append((join(prefix, name), member)) }
                case .buffer: result.append((join(prefix, name), member))
                case .module(let child): visit(child, join(prefix, name))
                }
            }
        }
        visit(self, "")
        return result
    }

    /// The parameters and buffers by dotted name (PyTorch's `state_dict`).
    ///
    /// A member shared by several modules appears under each of its names. The tensors are values:
    /// later training does not change a dictionary already taken.
    public func stateDict() -> [String: Tensor] {
        var dict: [String: Tensor] = [:]
        for (name, member) in stateSlots() {
            switch member {
            case .parameter(let box): dict[name] = box.variable!.value
            case .buffer(let box): dict[name] = box.wrappedValue
            case .module: break
            }
        }
        return dict
    }

    /// Replaces parameter and buffer values with the tensors of `stateDict` (PyTorch's `load_state_dict`).
    ///
    /// Values are converted to each member's dtype; parameters keep their identity, so an
    /// optimiser holding them keeps working. Nothing is changed when an error is thrown.
    ///
    /// - Parameters:
    ///   - strict: when true (the default), missing and unexpected keys are errors; when false they
    ///     are skipped and returned. A shape mismatch is an error either way.
    /// - Throws: ``LoadStateDictError`` listing missing keys, unexpected keys and shape mismatches.
    @discardableResult
    public func loadStateDict(_ stateDict: [String: Tensor], strict: Bool = true) throws -> LoadStateDictResult {
        let slots = stateSlots()
        let names = Set(slots.map(\.name))
        let missing = slots.map(\.name).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !names.contains($0) }.sorted()
        var mismatches: [LoadStateDictError.ShapeMismatch] = []
        for (name, member) in slots {
            guard let tensor = stateDict[name] else { continue }
            let current: [Int]
            switch member {
            case .parameter(let box): current = box.variable!.shape
            case .buffer(let box): current = box.wrappedValue.shape
            case .module: continue
            }
            if tensor.shape != current { mismatches.append(.init(key: name, expected: current, found: tensor.shape)) }
        }
        if !mismatches.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw LoadStateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [], shapeMismatches: mismatches)
        }
        Graph.noGrad {
            for (name, member) in slots {
                guard let tensor = stateDict[name] else { continue }
                switch member {
                case .parameter(let box): let v = box.variable!; v.value = tensor.to(v.dtype)
                case .buffer(let box): box.wrappedValue = tensor.to(box.wrappedValue.dtype)
                case .module: break
                }
            }
        }
        return LoadStateDictResult(missingKeys: missing, unexpectedKeys: unexpected)
    }

    /// Writes ``stateDict()`` to a safetensors file at `url` (see ``SafeTensors``).
    ///
    /// - Throws: ``SafeTensorsError`` when the file cannot be written.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stateDict(), metadata: metadata, to: url)
    }

    /// Loads parameters and buffers from a safetensors file written by ``save(to:metadata:)`` (or by PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), path)`).
    ///
    /// - Returns: the file's metadata.
    /// - Throws: ``SafeTensorsError`` for an unreadable or corrupt file, ``LoadStateDictError`` when
    ///   its tensors do not fit the module.
    @discardableResult
    public func load(from url: URL, strict: Bool = true) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        try loadStateDict(tensors, strict: strict)
        return metadata
    }
}
