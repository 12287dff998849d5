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
    /// Integer buffers given floating-point values that are not whole numbers (always reported).
    public let nonIntegerValues: [String]

    init(missingKeys: [String], unexpectedKeys: [String], shapeMismatches: [ShapeMismatch], nonIntegerValues: [String] = []) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.nonIntegerValues = nonIntegerValues
    }

    public var description: String {
        var lines = ["error loading state dictionary:"]
        if !missingKeys.isEmpty { lines.append("  missing keys: " + missingKeys.map { "\"\($0)\"" }.joined(separator: ", ")) }
        if !unexpectedKeys.isEmpty { lines.append("  unexpected keys: " + unexpectedKeys.map { "\"\($0)\"" }.joined(separator: ", ")) }
        for m in shapeMismatches {
            lines.append("  size mismatch for \"\(m.key)\": the module has shape \(m.expected), the checkpoint has shape \(m.found)")
        }
        for key in nonIntegerValues {
            lines.append("  \"\(key)\" is an integer buffer, the checkpoint holds values that are not whole numbers")
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
                case .buffer, .integerBuffer: result.append((join(prefix, name), member))
                case .module(let child): visit(child, join(prefix, name))
                }
            }
        }
        visit(self, "")
        return result
    }

    /// Every module under every path it has, pre-order (a module shared by two parents appears twice).
    private func modulePaths() -> [(prefix: String, module: Module)] {
        var result: [(prefix: String, module: Module)] = []
        var path: Set<ObjectIdentifier> = []
        func visit(_ module: Module, _ prefix: String) {
            guard path.insert(ObjectIdentifier(module)).inserted else { return }
            defer { path.remove(ObjectIdentifier(module)) }
            result.append((prefix, module))
            for (name, child) in module.namedChildren() { visit(child, join(prefix, name)) }
        }
        visit(self, "")
        return result
    }

    /// The parameters and buffers by dotted name (PyTorch's `state_dict`); integer buffers as `float64`
    /// (exact below 2⁵³; ``storedStateDict()`` keeps them integers).
    ///
    /// A member shared by several modules appears under each of its names. The tensors are values:
    /// later training does not change a dictionary already taken.
    public func stateDict() -> [String: Tensor] {
        storedStateDict().mapValues { value in
            if case .float(let t) = value { return t }
            return value.floatingPoint(.float64)
        }
    }

    /// The parameters and buffers by dotted name with integer buffers as integers: what ``save(to:metadata:)``
    /// writes, and what PyTorch's `state_dict()` holds (`num_batches_tracked` is a `torch.long` there too).
    public func storedStateDict() -> [String: StoredTensor] {
        var dict: [String: StoredTensor] = [:]
        for (name, member) in stateSlots() {
            switch member {
            case .parameter(let box): dict[name] = .float(box.variable!.value)
            case .buffer(let box): dict[name] = .float(box.wrappedValue)
            case .integerBuffer(let box): dict[name] = .integer(box.wrappedValue)
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
    ///   - stateDict: tensors by PyTorch-style dotted name.
    ///   - strict: when true (the default), missing and unexpected keys are errors; when false they
    ///     are skipped and returned. A shape mismatch is an error either way.
    /// - Throws: ``LoadStateDictError`` listing missing keys, unexpected keys and shape mismatches.
    @discardableResult
    public func loadStateDict(_ stateDict: [String: Tensor], strict: Bool = true) throws -> LoadStateDictResult {
        try loadStateDict(stored: stateDict.mapValues(StoredTensor.float), strict: strict)
    }

    /// Replaces parameter and buffer values with floating-point and integer tensors (see
    /// ``loadStateDict(_:strict:)``): integers load into floating-point members converted, whole numbers load
    /// into integer buffers; names in ``legacyStateNames`` are accepted for today's.
    ///
    /// - Throws: ``LoadStateDictError``; nothing is changed when it throws.
    @discardableResult
    public func loadStateDict(stored: [String: StoredTensor], strict: Bool = true) throws -> LoadStateDictResult {
        var stateDict = stored
        for (prefix, module) in modulePaths() {
            for (old, new) in module.legacyStateNames.sorted(by: { $0.key < $1.key }) {
                let oldKey = join(prefix, old), newKey = join(prefix, new)
                if stateDict[newKey] == nil, let value = stateDict.removeValue(forKey: oldKey) { stateDict[newKey] = value }
            }
        }
        let slots = stateSlots()
        let names = Set(slots.map(\.name))
        let missing = slots.map(\.name).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !names.contains($0) }.sorted()
        var mismatches: [LoadStateDictError.ShapeMismatch] = []
        var nonIntegers: [String] = []
        var integerValues: [String: IntTensor] = [:]
        for (name, member) in slots {
            guard let tensor = stateDict[name] else { continue }
            let current: [Int]
            switch member {
            case .parameter(let box): current = box.variable!.shape
            case .buffer(let box): current = box.wrappedValue.shape
            case .integerBuffer(let box):
                current = box.wrappedValue.shape
                if let integers = tensor.integers { integerValues[name] = integers } else { nonIntegers.append(name) }
            case .module: continue
            }
            if tensor.shape != current { mismatches.append(.init(key: name, expected: current, found: tensor.shape)) }
        }
        if !mismatches.isEmpty || !nonIntegers.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw LoadStateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [],
                                     shapeMismatches: mismatches, nonIntegerValues: nonIntegers)
        }
        Graph.noGrad {
            for (name, member) in slots {
                guard let tensor = stateDict[name] else { continue }
                switch member {
                case .parameter(let box): let v = box.variable!; v.value = tensor.floatingPoint(v.dtype)
                case .buffer(let box): box.wrappedValue = tensor.floatingPoint(box.wrappedValue.dtype)
                case .integerBuffer(let box): box.wrappedValue = integerValues[name]!
                case .module: break
                }
            }
        }
        return LoadStateDictResult(missingKeys: missing, unexpectedKeys: unexpected)
    }

    /// Writes ``storedStateDict()`` to a safetensors file at `url` (see `SafeTensors`), integer buffers as `I64`:
    /// the file PyTorch's `safetensors.torch.save_file(model.state_dict(), path)` writes for the same model.
    ///
    /// - Throws: `SafeTensorsError` when the file cannot be written.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stored: storedStateDict(), metadata: metadata, to: url)
    }

    /// Loads parameters and buffers from a safetensors file written by ``save(to:metadata:)`` (or by PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), path)`).
    ///
    /// - Returns: the file's metadata.
    /// - Throws: `SafeTensorsError` for an unreadable or corrupt file, ``LoadStateDictError`` when
    ///   its tensors do not fit the module.
    @discardableResult
    public func load(from url: URL, strict: Bool = true) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.readStored(from: url)
        try loadStateDict(stored: tensors, strict: strict)
        return metadata
    }
}
