extension GroupedOptimizer {
    /// The state under `state.<i>.<name>` and the hyper-parameters under `param_groups.<g>.<name>`.
    public func stateDict() -> [String: Tensor] {
        var dictionary: [String: Tensor] = [:]
        var index = 0
        for (g, group) in parameterGroups.enumerated() {
            for field in Options.fields {
                dictionary["param_groups.\(g).\(field.name)"] =
                    Tensor(shape: field.shape, scalars: field.read(group.options))
            }
            let indices = (index..<index + group.parameters.count).map(Double.init)
            dictionary["param_groups.\(g).params"] = Tensor(shape: [indices.count], scalars: indices)
            for parameter in group.parameters {
                if let state = states[ObjectIdentifier(parameter)] {
                    if tracksStep { dictionary["state.\(index).step"] = Tensor(Double(state.step)) }
                    for (name, buffer) in state.buffers { dictionary["state.\(index).\(name)"] = buffer }
                }
                index += 1
            }
        }
        return dictionary
    }

    /// Validates the whole dictionary, then replaces hyper-parameters and state; buffers are
    /// converted to each parameter's dtype.
    ///
    /// - Throws: ``OptimizerStateError``; nothing changes when it throws.
    public func loadStateDict(_ dictionary: [String: Tensor]) throws {
        var unused = Set(dictionary.keys)
        func take(_ key: String, shape: [Int]) throws -> Tensor {
            guard let tensor = dictionary[key] else { throw OptimizerStateError.missingKey(key) }
            guard tensor.shape == shape else {
                throw OptimizerStateError.shapeMismatch(key: key, expected: shape, found: tensor.shape)
            }
            unused.remove(key)
            return tensor
        }

        // Hyper-parameters, group by group.
        var groupOptions: [Options] = []
        var groupOfParameter: [Int] = []
        for (g, group) in parameterGroups.enumerated() {
            var options = group.options
            for field in Options.fields {
                let key = "param_groups.\(g).\(field.name)"
                let values = try take(key, shape: field.shape).doubles
                guard field.write(&options, values) else {
                    throw OptimizerStateError.invalidValue(key: key, reason: "cannot hold \(values)")
                }
            }
            if let problem = problem(with: options) {
                throw OptimizerStateError.invalidValue(key: "param_groups.\(g).\(problem.field)",
                                                       reason: "\(problem.value): \(problem.requirement)")
            }
            let key = "param_groups.\(g).params"
            let indices = try take(key, shape: [group.parameters.count]).doubles
            let expected = (groupOfParameter.count..<groupOfParameter.count + group.parameters.count).map(Double.init)
            guard indices == expected else {
                throw OptimizerStateError.invalidValue(
                    key: key, reason: "lists parameters \(indices), this optimizer's group \(g) has \(expected)")
            }
            groupOptions.append(options)
            groupOfParameter += Array(repeating: g, count: group.parameters.count)
        }

        // Per-parameter state: "state.<i>.<name>", sorted so that errors are deterministic.
        let parameters = self.parameters()
        var stateKeys: [Int: [String]] = [:]
        for key in unused.sorted() where key.hasPrefix("state.") {
            let rest = key.dropFirst("state.".count)
            guard let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]), parameters.indices.contains(i) else {
                throw OptimizerStateError.unexpectedKey(key)
            }
            stateKeys[i, default: []].append(String(rest[rest.index(after: dot)...]))
        }
        var newStates: [ObjectIdentifier: ParameterState] = [:]
        for (i, names) in stateKeys.sorted(by: { $0.key < $1.key }) {
            let parameter = parameters[i]
            let required = stateNames(for: groupOptions[groupOfParameter[i]])
            var state = ParameterState(parameter: parameter)
            if tracksStep {
                let key = "state.\(i).step"
                let step = try take(key, shape: []).item
                guard step >= 0, step == step.rounded(), step < Double(Int.max) else {
                    throw OptimizerStateError.invalidValue(key: key, reason: "step \(step) is not a count")
                }
                state.step = Int(step)
            }
            for name in required {
                let key = "state.\(i).\(name)"
                let buffer = try take(key, shape: parameter.shape).to(parameter.dtype)
                try validate(buffer, key: key, nonNegative: nonNegativeStateNames.contains(name))
                state.buffers[name] = buffer
            }
            if let extra = names.first(where: { unused.contains("state.\(i).\($0)") }) {
                throw OptimizerStateError.unexpectedKey("state.\(i).\(extra)")
            }
            newStates[ObjectIdentifier(parameter)] = state
        }
        if let extra = unused.sorted().first { throw OptimizerStateError.unexpectedKey(extra) }

        for g in parameterGroups.indices { parameterGroups[g].options = groupOptions[g] }
        states = newStates
    }
}

/// Throws unless every element of `buffer` is finite (and ≥ 0 when `nonNegative`): one NaN, infinity
/// or negative second moment in a loaded state would turn its parameter into NaN on the next step.
private func validate(_ buffer: Tensor, key: String, nonNegative: Bool) throws {
    for (index, value) in buffer.doubles.enumerated() {
        if !value.isFinite {
            throw OptimizerStateError.invalidValue(
                key: key, reason: "element \(index) is \(value) (in \(buffer.dtype)); state must be finite")
        }
        if nonNegative && value < 0 {
            throw OptimizerStateError.invalidValue(
                key: key, reason: "element \(index) is \(value); a second moment must not be negative")
        }
    }
}
