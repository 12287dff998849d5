import AutoGrad

/// Nodes that several layers' exports are built from, written once with the details of the operator set (which
/// arguments are inputs and which attributes) in one place.
extension ONNXGraphBuilder {
    /// `x·Wᵀ + b` over the last axis of `x` for a `Linear`-layout weight `[out, in]`: one `Gemm` for a matrix,
    /// `MatMul` and `Add` for higher ranks.
    public func linear(_ x: ONNXValue, weight: Variable, bias: Variable?, weightName: String = "weight",
                       biasName: String = "bias") -> ONNXValue {
        let w = parameter(weight, named: weightName)
        let b = bias.map { parameter($0, named: biasName) }
        if x.rank == 2 { return node("Gemm", [x, w, b], attributes: ["transB": .int(1)], rank: 2) }
        let product = node("MatMul", [x, transpose(w, [1, 0])], rank: x.rank)
        return b.map { add(product, $0) } ?? product
    }

    /// `a + b`, broadcasting.
    public func add(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { binary("Add", a, b) }

    /// `a · b`, elementwise, broadcasting.
    public func multiply(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { binary("Mul", a, b) }

    /// An elementwise operator of two broadcasting inputs.
    public func binary(_ opType: String, _ a: ONNXValue, _ b: ONNXValue) -> ONNXValue {
        node(opType, [a, b], rank: max(a.rank, b.rank))
    }

    /// `x` with its axes permuted.
    public func transpose(_ x: ONNXValue, _ permutation: [Int]) -> ONNXValue {
        node("Transpose", [x], attributes: ["perm": .ints(permutation)], rank: permutation.count)
    }

    /// `x` reshaped to `shape`, where `0` keeps the input's size on that axis and `-1` takes what is left.
    public func reshape(_ x: ONNXValue, _ shape: [Int]) -> ONNXValue {
        node("Reshape", [x, integers(shape, named: "shape")], rank: shape.count)
    }

    /// `x` reshaped to the shape held by the int64 vector `shape` of `rank` entries.
    public func reshape(_ x: ONNXValue, to shape: ONNXValue, rank: Int) -> ONNXValue {
        node("Reshape", [x, shape], rank: rank)
    }

    /// The sizes of axes `start..<end` of `x` (to the last axis when `end` is nil) as an int64 vector.
    public func shape(_ x: ONNXValue, start: Int = 0, end: Int? = nil) -> ONNXValue {
        var attributes: [String: ONNXAttribute] = ["start": .int(start)]
        if let end { attributes["end"] = .int(end) }
        return node("Shape", [x], attributes: attributes, rank: 1, elementType: .int64)
    }

    /// `x` with size-one axes inserted at `axes` (of the result).
    public func unsqueeze(_ x: ONNXValue, axes: [Int]) -> ONNXValue {
        node("Unsqueeze", [x, integers(axes, named: "axes")], rank: x.rank + axes.count)
    }

    /// `x` without its size-one axes `axes`.
    public func squeeze(_ x: ONNXValue, axes: [Int]) -> ONNXValue {
        node("Squeeze", [x, integers(axes, named: "axes")], rank: x.rank - axes.count)
    }

    /// The mean of `x` over `axes`, which stay as size-one axes.
    public func reduceMean(_ x: ONNXValue, axes: [Int]) -> ONNXValue {
        // Opset 18 moved the axes from an attribute to an input.
        if opset >= 18 {
            return node("ReduceMean", [x, integers(axes, named: "axes")], attributes: ["keepdims": .int(1)], rank: x.rank)
        }
        return node("ReduceMean", [x], attributes: ["axes": .ints(axes), "keepdims": .int(1)], rank: x.rank)
    }

    /// Axes `startAxis...endAxis` of `x` (negative counts from the end) merged into one, as `torch.flatten` does.
    public func flatten(_ x: ONNXValue, startAxis: Int, endAxis: Int) -> ONNXValue {
        let start = startAxis < 0 ? startAxis + x.rank : startAxis, end = endAxis < 0 ? endAxis + x.rank : endAxis
        if start == end { return x }
        if start == 1 && end == x.rank - 1 { return node("Flatten", [x], attributes: ["axis": .int(1)], rank: 2) }
        var parts: [ONNXValue] = []
        if start > 0 { parts.append(shape(x, start: 0, end: start)) }
        parts.append(integers([-1], named: "flat"))
        if end < x.rank - 1 { parts.append(shape(x, start: end + 1)) }
        let target = parts.count == 1 ? parts[0] : node("Concat", parts, attributes: ["axis": .int(0)], rank: 1)
        return reshape(x, to: target, rank: x.rank - (end - start))
    }
}
