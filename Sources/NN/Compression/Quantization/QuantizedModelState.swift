import AutoGrad
import Foundation

extension Module {
    /// The state of a model with quantised layers: the Float layers' ``storedStateDict()`` plus each quantised
    /// layer's `I8` weights and `F32` scales, by dotted name.
    public func quantizedStateDict() -> [String: StoredTensor] {
        var dict = storedStateDict()
        for (prefix, module) in namedModules() {
            guard let layer = module as? QuantizedLayer else { continue }
            for (name, value) in layer.quantizedState() { dict[join(prefix, name)] = value }
        }
        return dict
    }

    /// Replaces the state of a model with quantised layers, which must have the same structure as the model the
    /// state came from (quantise the same Float model first, then load).
    ///
    /// - Throws: ``QuantizedStateError`` for a quantised layer's missing, mistyped, misshapen or impossible
    ///   entry; ``LoadStateDictError`` for the Float layers' missing and unexpected keys and shape mismatches.
    public func loadQuantizedStateDict(_ state: [String: StoredTensor]) throws {
        var rest = state
        for (prefix, module) in namedModules() {
            guard let layer = module as? QuantizedLayer else { continue }
            let reader = QuantizedStateReader(state, prefix: prefix)
            try layer.loadQuantizedState(reader)
            for key in reader.used { rest[key] = nil }
        }
        try loadStateDict(stored: rest, strict: true)
    }

    /// Writes ``quantizedStateDict()`` to a safetensors file at `url`.
    ///
    /// - Throws: `SafeTensorsError` when the file cannot be written.
    public func saveQuantized(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stored: quantizedStateDict(), metadata: metadata, to: url)
    }

    /// Loads a file written by ``saveQuantized(to:metadata:)`` (see ``loadQuantizedStateDict(_:)``).
    ///
    /// - Throws: `SafeTensorsError` for an unreadable file, else what ``loadQuantizedStateDict(_:)`` throws.
    public func loadQuantized(from url: URL) throws {
        try loadQuantizedStateDict(SafeTensors.readStored(from: url).tensors)
    }
}
