import AutoGrad
import NN

// Multi-head attention and the transformer layers built on it. The single-input forms (self-attention, encoder
// layers and stacks) conform to ONNXExportable; cross-attention and decoders, which take a second input, are
// graph-builder functions a model's own export calls.

extension MultiheadAttention: ONNXExportable {
    /// Self-attention of the input, without a mask.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.attention(self, query: input, key: input, value: input, isCausal: false)
    }
}

extension TransformerEncoderLayer: ONNXExportable {
    /// The layer without a mask.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.encoderLayer(self, input, isCausal: false)
    }
}

extension TransformerEncoder: ONNXExportable {
    /// The stack without a mask.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.encoderLayers(self, input, isCausal: false)
    }
}

extension ONNXGraphBuilder {
    /// `attention`'s output for `query`, `key` and `value` (in the layer's `batchFirst` layout), with the causal
    /// mask when `isCausal`. Call it from the export of a model whose `attention` is a child called `name`.
    public func attention(_ attention: MultiheadAttention, named name: String, query: ONNXValue, key: ONNXValue,
                          value: ONNXValue, isCausal: Bool = false) throws -> ONNXValue {
        try within(name) { try self.attention(attention, query: query, key: key, value: value, isCausal: isCausal) }
    }

    /// `layer` applied to `x`, with the causal mask when `isCausal` (as `forward(_:isCausal:)`).
    public func transformerEncoderLayer(_ layer: TransformerEncoderLayer, named name: String, _ x: ONNXValue,
                                        isCausal: Bool = false) throws -> ONNXValue {
        try within(name) { try self.encoderLayer(layer, x, isCausal: isCausal) }
    }

    /// `encoder` applied to `x`, with the causal mask when `isCausal` (as `forward(_:isCausal:)`).
    public func transformerEncoder(_ encoder: TransformerEncoder, named name: String, _ x: ONNXValue,
                                   isCausal: Bool = false) throws -> ONNXValue {
        try within(name) { try self.encoderLayers(encoder, x, isCausal: isCausal) }
    }

    /// `layer` applied to `target` attending to `memory`, with the causal mask on its self-attention when
    /// `targetIsCausal`.
    public func transformerDecoderLayer(_ layer: TransformerDecoderLayer, named name: String, _ target: ONNXValue,
                                        memory: ONNXValue, targetIsCausal: Bool = false) throws -> ONNXValue {
        try within(name) { try self.decoderLayer(layer, target, memory: memory, isCausal: targetIsCausal) }
    }

    /// `decoder` applied to `target` attending to `memory`.
    public func transformerDecoder(_ decoder: TransformerDecoder, named name: String, _ target: ONNXValue,
                                   memory: ONNXValue, targetIsCausal: Bool = false) throws -> ONNXValue {
        try within(name) {
            let x = try decoder.decoderLayers.enumerated().reduce(target) { x, item in
                try self.transformerDecoderLayer(item.element, named: "layers.\(item.offset)", x, memory: memory,
                                                 targetIsCausal: targetIsCausal)
            }
            return try self.finalNorm(decoder.finalNorm, x)
        }
    }

    // MARK: Pieces

    func encoderLayers(_ encoder: TransformerEncoder, _ x: ONNXValue, isCausal: Bool) throws -> ONNXValue {
        let y = try encoder.encoderLayers.enumerated().reduce(x) { x, item in
            try transformerEncoderLayer(item.element, named: "layers.\(item.offset)", x, isCausal: isCausal)
        }
        return try finalNorm(encoder.finalNorm, y)
    }

    private func finalNorm(_ norm: LayerNorm?, _ x: ONNXValue) throws -> ONNXValue {
        guard let norm else { return x }
        return try export(norm, named: "norm", x)
    }

    func encoderLayer(_ layer: TransformerEncoderLayer, _ src: ONNXValue, isCausal: Bool) throws -> ONNXValue {
        let attend = { (x: ONNXValue) in try self.attention(layer.selfAttention, named: "self_attn", query: x, key: x, value: x, isCausal: isCausal) }
        let norms = layer.norms, feedForward = layer.feedForward
        let ffn = { (x: ONNXValue) in try self.feedForward(feedForward.linear1, feedForward.linear2, layer.activation, x) }
        if layer.normFirst {
            let x = add(src, try attend(try export(norms.norm1, named: "norm1", src)))
            return add(x, try ffn(try export(norms.norm2, named: "norm2", x)))
        }
        let x = try export(norms.norm1, named: "norm1", add(src, try attend(src)))
        return try export(norms.norm2, named: "norm2", add(x, try ffn(x)))
    }

    func decoderLayer(_ layer: TransformerDecoderLayer, _ target: ONNXValue, memory: ONNXValue, isCausal: Bool) throws -> ONNXValue {
        let attendSelf = { (x: ONNXValue) in
            try self.attention(layer.selfAttention, named: "self_attn", query: x, key: x, value: x, isCausal: isCausal)
        }
        let attendMemory = { (x: ONNXValue) in
            try self.attention(layer.memoryAttention, named: "multihead_attn", query: x, key: memory, value: memory)
        }
        let parts = layer.feedForward
        let ffn = { (x: ONNXValue) in try self.feedForward(parts.linear1, parts.linear2, layer.activation, x) }
        let (norm1, norm2, norm3) = layer.norms
        if layer.normFirst {
            var x = add(target, try attendSelf(try export(norm1, named: "norm1", target)))
            x = add(x, try attendMemory(try export(norm2, named: "norm2", x)))
            return add(x, try ffn(try export(norm3, named: "norm3", x)))
        }
        var x = try export(norm1, named: "norm1", add(target, try attendSelf(target)))
        x = try export(norm2, named: "norm2", add(x, try attendMemory(x)))
        return try export(norm3, named: "norm3", add(x, try ffn(x)))
    }

    private func feedForward(_ linear1: Linear, _ linear2: Linear, _ activation: TransformerActivation, _ x: ONNXValue) throws -> ONNXValue {
        let h = try export(linear1, named: "linear1", x)
        let activated = activation == .gelu ? gelu(h, approximate: .none) : node("Relu", [h], rank: h.rank)
        return try export(linear2, named: "linear2", activated)
    }

    func attention(_ mha: MultiheadAttention, query: ONNXValue, key: ONNXValue, value: ONNXValue, isCausal: Bool) throws -> ONNXValue {
        for (input, width) in [(query, mha.embedDim), (key, mha.kdim), (value, mha.vdim)] {
            try require(input, of: mha, rank: [3], shape: mha.batchFirst ? "[N, T, \(width)]" : "[T, N, \(width)]")
        }
        let e = mha.embedDim, heads = mha.numHeads
        func batchMajor(_ x: ONNXValue) -> ONNXValue { mha.batchFirst ? x : transpose(x, [1, 0, 2]) }
        func projection(_ part: Int, _ label: String) -> (weight: Tensor, bias: Tensor?) {
            let weight = mha.inProjWeight.map { $0.value.sliced(axis: 0, start: part * e, end: (part + 1) * e) }
                ?? [mha.qProjWeight, mha.kProjWeight, mha.vProjWeight][part]!.value
            return (weight, mha.inProjBias.map { $0.value.sliced(axis: 0, start: part * e, end: (part + 1) * e) })
        }
        // [N, L, E] → [N, heads, L, E / heads]
        func splitHeads(_ x: ONNXValue, _ part: Int, _ label: String) -> ONNXValue {
            let (w, b) = projection(part, label)
            var y = node("MatMul", [batchMajor(x), constant(w.transposed(0, 1), named: "\(label)_proj_weight_t")], rank: 3)
            if let b { y = add(y, constant(b, named: "\(label)_proj_bias")) }
            return transpose(reshape(y, [0, 0, heads, e / heads]), [0, 2, 1, 3])
        }
        let q = splitHeads(query, 0, "q"), k = splitHeads(key, 1, "k"), v = splitHeads(value, 2, "v")
        var scores = multiply(node("MatMul", [q, transpose(k, [0, 1, 3, 2])], rank: 4),
                              scalar(1 / Double(e / heads).squareRoot(), named: "scale"))
        if isCausal {
            // Lower-triangular ones of [L, S] built at run time, so the sequence length stays free.
            let size = node("Concat", [shape(scores, start: 2, end: 3), shape(scores, start: 3, end: 4)], attributes: ["axis": .int(0)],
                            rank: 1, elementType: .int64)
            let ones = node("Expand", [scalar(1, named: "one"), size], rank: 2)
            let allowed = node("Cast", [node("Trilu", [ones], attributes: ["upper": .int(0)], rank: 2)],
                               attributes: ["to": .int(Int(ONNXElementType.bool.code))], rank: 2, elementType: .bool)
            scores = node("Where", [allowed, scores, scalar(-Double.infinity, named: "masked")], rank: 4, elementType: .float32)
        }
        let weights = node("Softmax", [scores], attributes: ["axis": .int(-1)], rank: 4)
        let merged = reshape(transpose(node("MatMul", [weights, v], rank: 4), [0, 2, 1, 3]), [0, 0, e])
        let output = try export(mha.outProj, named: "out_proj", merged)
        return mha.batchFirst ? output : transpose(output, [1, 0, 2])
    }

    /// `body`'s nodes under the child path `name`.
    func within<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        path.append(name)
        defer { path.removeLast() }
        return try body()
    }
}
