// Nearest and (bi)linear upsampling share one kernel: both are separable linear maps in which output position
// `o` along an axis reads input positions `i₀(o)` and `i₁(o)` with weights `1 − λ(o)` and `λ(o)` (nearest:
// `λ = 0`). The forward reads through those tables and its adjoint (the backward) adds through them, so the
// two form a closed pair: each one's gradient is the other.

/// For each output position along one axis, the two input positions it reads and the weight of the second.
struct InterpolationAxis: Equatable {
    let inputSize: Int
    let first: [Int], second: [Int]
    let weight: [Double]
    var outputSize: Int { first.count }

    /// PyTorch's `nearest` rule (`upsample_nearest`, "legacy" nearest): the source index is
    /// `min(⌊o·scale⌋, in − 1)` with `scale = 1/scaleFactor` (or `in/out` without one) computed in `Float`, as
    /// PyTorch does; equal sizes copy and doubled sizes halve the index exactly.
    static func nearest(input: Int, output: Int, scaleFactor: Double?) -> InterpolationAxis {
        let scale = scaleFactor.map { Float(1 / $0) } ?? Float(input) / Float(output)
        let source: [Int] = (0..<output).map { o in
            if output == input { return o }
            if output == 2 * input { return o >> 1 }
            return Swift.min(Int((Float(o) * scale).rounded(.down)), input - 1)
        }
        return InterpolationAxis(inputSize: input, first: source, second: source, weight: Array(repeating: 0, count: output))
    }

    /// PyTorch's `linear` rule (`area_pixel_compute_source_index`): with `alignCorners` the source coordinate
    /// is `o·(in − 1)/(out − 1)`; otherwise `(o + ½)·scale − ½` clamped below at 0, `scale = 1/scaleFactor` or
    /// `in/out`. The coordinate's floor (at most `in − 1`) and the next position are blended by its fraction.
    static func linear(input: Int, output: Int, scaleFactor: Double?, alignCorners: Bool) -> InterpolationAxis {
        let scale: Double
        if alignCorners {
            scale = output > 1 ? Double(input - 1) / Double(output - 1) : 0
        } else {
            scale = scaleFactor.map { 1 / $0 } ?? Double(input) / Double(output)
        }
        var first: [Int] = [], second: [Int] = [], weight: [Double] = []
        for o in 0..<output {
            let real = alignCorners ? scale * Double(o) : Swift.max(scale * (Double(o) + 0.5) - 0.5, 0)
            let i0 = Swift.min(Int(real.rounded(.down)), input - 1)
            first.append(i0)
            second.append(i0 + (i0 < input - 1 ? 1 : 0))
            weight.append(Swift.min(Swift.max(real - Double(i0), 0), 1))
        }
        return InterpolationAxis(inputSize: input, first: first, second: second, weight: weight)
    }
}

/// A separable interpolation of the last two dimensions of `[planes…, H, W]`.
struct InterpolationPlan: Equatable {
    let rows: InterpolationAxis, columns: InterpolationAxis

    /// `x` `[…, H, W]` → `[…, Ho, Wo]`: `y[o, p] = Σ wᵣ·w_c·x[r, c]` over the two rows and columns of each output.
    func interpolate(_ x: Tensor) -> Tensor {
        run(x, outputShape: Array(x.shape.dropLast(2)) + [rows.outputSize, columns.outputSize], adjoint: false)
    }

    /// The adjoint: `g` `[…, Ho, Wo]` → `[…, H, W]`, each output's value added back to the positions it read.
    func scatter(_ g: Tensor) -> Tensor {
        run(g, outputShape: Array(g.shape.dropLast(2)) + [rows.inputSize, columns.inputSize], adjoint: true)
    }

    private func run(_ source: Tensor, outputShape: [Int], adjoint: Bool) -> Tensor {
        var out = adjoint ? Tensor.zeros(outputShape, dtype: source.dtype) : Tensor(uninitializedShape: outputShape, dtype: source.dtype)
        if out.count == 0 { return out }
        out.makeUnique()
        let planes = outputShape.dropLast(2).reduce(1, *)
        switch source.dtype {
        case .float32: interpolationKernel(Float.self, source, into: out, planes: planes, adjoint: adjoint)
        case .float64: interpolationKernel(Double.self, source, into: out, planes: planes, adjoint: adjoint)
        }
        return out
    }

    /// One plane at a time; terms of weight 0 are skipped, so nearest never reads (or writes) a neighbour.
    private func interpolationKernel<T: TensorScalar>(_: T.Type, _ source: Tensor, into out: Tensor, planes: Int, adjoint: Bool) {
        let (h, w, ho, wo) = (rows.inputSize, columns.inputSize, rows.outputSize, columns.outputSize)
        let input = UnsafePointer(source.storage.pointer(T.self)), output = out.storage.pointer(T.self)
        let rowWeights = rows.weight.map { T($0) }, columnWeights = columns.weight.map { T($0) }
        for p in 0..<planes {
            let small = p &* h &* w, large = p &* ho &* wo
            for r in 0..<ho {
                let (r0, r1, lr) = (rows.first[r], rows.second[r], rowWeights[r])
                for c in 0..<wo {
                    let (c0, c1, lc) = (columns.first[c], columns.second[c], columnWeights[c])
                    if adjoint {
                        let g = input[large &+ r &* wo &+ c]
                        let top = (1 - lr) * g, bottom = lr * g
                        output[small &+ r0 &* w &+ c0] += (1 - lc) * top
                        if lc != 0 { output[small &+ r0 &* w &+ c1] += lc * top }
                        if lr != 0 {
                            output[small &+ r1 &* w &+ c0] += (1 - lc) * bottom
                            if lc != 0 { output[small &+ r1 &* w &+ c1] += lc * bottom }
                        }
                    } else {
                        func blend(_ row: Int) -> T {
                            let a = input[small &+ row &* w &+ c0]
                            return lc == 0 ? a : (1 - lc) * a + lc * input[small &+ row &* w &+ c1]
                        }
                        let top = blend(r0)
                        output[large &+ r &* wo &+ c] = lr == 0 ? top : (1 - lr) * top + lr * blend(r1)
                    }
                }
            }
        }
    }
}
