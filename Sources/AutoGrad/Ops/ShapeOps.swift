/// A new shape for the same elements.  ∂/∂x = g reshaped back.
struct Reshape: Op {
    let shape: [Int]
    func forward(_ x: [Tensor]) -> Tensor { x[0].reshaped(shape) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g.reshaped(inputs[0].shape)] }
}

/// Dimensions reordered.  ∂/∂x = g permuted by the inverse permutation.
struct Permute: Op {
    let axes: [Int]
    func forward(_ x: [Tensor]) -> Tensor { x[0].permuted(axes) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return [g.permuted(inverse)]
    }
}

/// Broadcast (expand) to a larger shape.  ∂/∂x = g summed back to the input's shape.
struct BroadcastTo: Op {
    let shape: [Int]
    var name: String { "Broadcast" }
    func forward(_ x: [Tensor]) -> Tensor { x[0].broadcast(to: shape) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g.sum(toShape: inputs[0].shape)] }
}

/// Sum of a broadcast result back to the shape it came from.  ∂/∂x = g broadcast again.
struct SumTo: Op {
    let shape: [Int]
    func forward(_ x: [Tensor]) -> Tensor { x[0].sum(toShape: shape) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] { [g.broadcast(to: inputs[0].shape)] }
}

/// `start..<end` by `step` along one axis.  ∂/∂x = g placed into zeros of the input's shape.
struct Slice: Op {
    let axis: Int, start: Int, end: Int, step: Int
    func forward(_ x: [Tensor]) -> Tensor { x[0].sliced(axis: axis, start: start, end: end, step: step) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [Unslice(fullShape: inputs[0].shape, axis: axis, start: start, end: end, step: step)(g)]
    }
}

/// The adjoint of ``Slice``: places the input into zeros of `fullShape`.  ∂/∂x = g sliced.
struct Unslice: Op {
    let fullShape: [Int]
    let axis: Int, start: Int, end: Int, step: Int
    func forward(_ x: [Tensor]) -> Tensor { x[0].unsliced(into: fullShape, axis: axis, start: start, end: end, step: step) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g.sliced(axis: axis, start: start, end: end, step: step)]
    }
}

/// Inputs joined along `axis`.  ∂/∂xᵢ = the slice of g that came from xᵢ.
struct Concatenate: Op {
    let axis: Int
    func forward(_ x: [Tensor]) -> Tensor { Tensor.concatenate(x, axis: axis) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        var start = 0
        return zip(inputs, needed).map { input, needed in
            let size = input.shape[axis]
            defer { start += size }
            return needed ? g.sliced(axis: axis, start: start, end: start + size) : nil
        }
    }
}

/// Constant padding.  ∂/∂x = the un-padded region of g.
struct Pad: Op {
    let padding: [(before: Int, after: Int)]
    let value: Double
    func forward(_ x: [Tensor]) -> Tensor { x[0].padded(padding, value: value) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let shape = inputs[0].shape
        let lead = shape.count - padding.count
        var result = g
        for (i, p) in padding.enumerated() where p.before != 0 || p.after != 0 {
            result = result.sliced(axis: lead + i, start: p.before, end: p.before + shape[lead + i])
        }
        return [result]
    }
}

/// `x` gathered along `axis` at `indices`.  ∂/∂x = g scatter-added back.
struct Gather: Op {
    let axis: Int
    let indices: TensorIndices
    func forward(_ x: [Tensor]) -> Tensor { x[0].gathered(axis: axis, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [ScatterAdd(shape: inputs[0].shape, axis: axis, indices: indices)(g)]
    }
}

/// The adjoint of ``Gather``: adds the input into zeros of `shape` at `indices`.  ∂/∂x = g gathered.
struct ScatterAdd: Op {
    let shape: [Int]
    let axis: Int
    let indices: TensorIndices
    func forward(_ x: [Tensor]) -> Tensor { x[0].scatteredAdd(into: shape, axis: axis, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g.gathered(axis: axis, indices: indices)]
    }
}

/// Whole slices selected along `axis`.  ∂/∂x = g index-added back.
struct IndexSelect: Op {
    let axis: Int
    let indices: [Int]
    func forward(_ x: [Tensor]) -> Tensor { x[0].indexSelected(axis: axis, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [IndexAdd(shape: inputs[0].shape, axis: axis, indices: indices)(g)]
    }
}

/// The adjoint of ``IndexSelect``: adds slices of the input into zeros of `shape`.  ∂/∂x = g index-selected.
struct IndexAdd: Op {
    let shape: [Int]
    let axis: Int
    let indices: [Int]
    func forward(_ x: [Tensor]) -> Tensor { x[0].indexAdded(into: shape, axis: axis, indices: indices) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g.indexSelected(axis: axis, indices: indices)]
    }
}
