import AutoGradTestSupport
import AutoGradTestSupport
import Foundation
import Testing
@testable import AutoGrad

/// Every `Op` primitive, reached through the public API that records it: the test checks that the API
/// really records that primitive (so the gradient tests of the API, elsewhere, are tests of it) and
/// gradchecks it there once more in Double. Ops that only appear in backward passes (adjoints such as
/// ``ScatterAdd`` or ``ConvTranspose2dOp``) are found in the graph of a gradient built with `createGraph`.
@Suite struct OpInventoryTests {
    /// The op types on the tape behind `v` (its own record and everything it was computed from).
    static func recordedOps(_ v: Variable) -> [any Op] {
        var ops: [any Op] = []
        var stack = [v]
        var seen: Set<ObjectIdentifier> = []
        while let next = stack.popLast() {
            guard let record = next.record, seen.insert(ObjectIdentifier(record)).inserted else { continue }
            ops.append(record.op)
            stack.append(contentsOf: record.inputs)
        }
        return ops
    }

    /// Asserts the graph of `function` at `inputs` contains an op of type `O`, then gradchecks `function`.
    func expectRecords<O: Op>(_ type: O.Type, _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
                              _ function: ([Variable]) -> Variable) {
        let y = function(inputs.map { Variable($0.to(.float64), requiresGrad: true) })
        #expect(Self.recordedOps(y).contains { $0 is O }, "no \(O.self) recorded", sourceLocation: sourceLocation)
        do { try gradcheck(function, inputs: inputs) } catch {
            Issue.record("\(O.self): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The first gradient of `function` with respect to each input, recorded with `createGraph`.
    static func gradientGraph(_ inputs: [Variable], _ function: ([Variable]) -> Variable) -> [Variable] {
        Graph.gradients(of: function(inputs).sum(), withRespectTo: inputs, createGraph: true)
    }

    let g = RandomGenerator(seed: 21)
    var a: Tensor { Tensor.uniform([3, 4], low: 0.5, high: 2, dtype: .float64, generator: g) }
    var b: Tensor { Tensor.uniform([3, 4], low: -2, high: -0.5, dtype: .float64, generator: g) }
    var square: Tensor { Tensor.randn([3, 3], dtype: .float64, generator: g) + Tensor.eye(3, dtype: .float64) * 3 }

    /// Fails for a type conforming to `Op` in Sources/AutoGrad that this file does not name.
    @Test func everyOpHasACase() throws {
        try OpInventory.expectCoverage(sources: "Sources/AutoGrad", inventory: "Tests/AutoGradTests/OpInventoryTests.swift",
                                       root: OpInventory.packageRoot(of: #filePath))
    }

    @Test func checkpoint() {
        expectRecords(CheckpointOp.self, [a, b]) { v in
            AutoGrad.checkpoint(v[0], parameters: [v[1]]) { ($0 * v[1]).exp() }
        }
    }

    @Test func arithmetic() {
        expectRecords(Add.self, [a, b]) { $0[0] + $0[1] }
        expectRecords(Subtract.self, [a, b]) { $0[0] - $0[1] }
        expectRecords(Multiply.self, [a, b]) { $0[0] * $0[1] }
        expectRecords(Divide.self, [a, b]) { $0[0] / $0[1] }
        expectRecords(Negate.self, [a]) { -$0[0] }
        expectRecords(AddScalar.self, [a]) { $0[0] + 2 }
        expectRecords(MultiplyScalar.self, [a]) { $0[0] * 3 }
        expectRecords(PowerScalar.self, [a]) { $0[0].pow(2.5) }
        expectRecords(Power.self, [a, b]) { Variable.pow($0[0], $0[1]) }
    }

    @Test func elementwise() {
        expectRecords(Exp.self, [b]) { $0[0].exp() }
        expectRecords(Log.self, [a]) { $0[0].log() }
        expectRecords(Sqrt.self, [a]) { $0[0].sqrt() }
        expectRecords(Abs.self, [b]) { $0[0].abs() }
        expectRecords(Sign.self, [b]) { $0[0].sign() + $0[0] }
        expectRecords(Tanh.self, [b]) { $0[0].tanh() }
        expectRecords(Sigmoid.self, [b]) { $0[0].sigmoid() }
        expectRecords(ReLU.self, [a]) { $0[0].relu() }
        expectRecords(ScaledBelowZero.self, [a, b]) { $0[0].leakyReLU(negativeSlope: 0.2) * $0[1].leakyReLU(negativeSlope: 0.3) }
        // ReLU's backward is the same primitive with slope 0.
        let reluGrad = Self.gradientGraph([Variable(b, requiresGrad: true)]) { $0[0].relu() * $0[0] }
        #expect(reluGrad.flatMap(Self.recordedOps).contains { ($0 as? ScaledBelowZero)?.slope == 0 })
        expectRecords(Clamp.self, [a]) { $0[0].clamped(min: 0.6, max: 1.9) }
        expectRecords(Extremum.self, [a, b]) { Variable.maximum($0[0], $0[1]) }
        expectRecords(Select.self, [a, b]) { Variable.where(Tensor.ones([3, 4]) .> Tensor.zeros([1, 4]), $0[0], $0[1]) }
        expectRecords(LogSigmoid.self, [b]) { $0[0].logSigmoid() }
        expectRecords(Clamp.self, [b]) { $0[0].hardtanh(min: -1.5, max: -0.7) }
        // maskedFill, tril and triu are `where` with a constant mask.
        expectRecords(Select.self, [a]) { $0[0].maskedFill(Tensor([1.0, 0, 0, 1]), value: 2) }
        expectRecords(Select.self, [a]) { $0[0].tril(diagonal: 1) }
        expectRecords(Select.self, [a]) { $0[0].triu(diagonal: -1) }
    }

    @Test func reductionsAndShapes() {
        expectRecords(Sum.self, [a]) { $0[0].sum(axes: [1]) }
        expectRecords(ExtremumReduction.self, [a]) { $0[0].max(axes: [0]) }
        expectRecords(Softmax.self, [a]) { $0[0].softmax(axis: 1) }
        expectRecords(LogSoftmax.self, [a]) { $0[0].logSoftmax(axis: 1) }
        expectRecords(CumSum.self, [a]) { $0[0].cumsum(axis: -1) }
        expectRecords(Reshape.self, [a]) { $0[0].reshaped([4, 3]) }
        expectRecords(Permute.self, [a]) { $0[0].transposed() }
        expectRecords(BroadcastTo.self, [a]) { $0[0].unsqueezed(axis: 0).broadcast(to: [2, 3, 4]) }
        expectRecords(SumTo.self, [a]) { $0[0].sum(toShape: [1, 4]) }
        expectRecords(Slice.self, [a]) { $0[0].sliced(axis: 1, start: 1, end: 4, step: 2) }
        expectRecords(Concatenate.self, [a, b]) { Variable.concatenate([$0[0], $0[1]], axis: 1) }
        expectRecords(Pad.self, [a]) { $0[0].padded([(1, 0), (0, 2)], value: 1) }
        expectRecords(Gather.self, [a]) { $0[0].gathered(axis: 1, indices: TensorIndices(shape: [3, 1], values: [3, 0, 2])) }
        expectRecords(IndexSelect.self, [a]) { $0[0].indexSelected(axis: 0, indices: [2, 0, 2]) }
        expectRecords(MatMul.self, [a, b]) { Variable.matmul($0[0], $0[1], transposeB: true) }
        expectRecords(LinearOp.self, [a, b, Tensor(shape: [3], scalars: [0.5, -1, 2], dtype: .float64)]) {
            Variable.linear($0[0], weight: $0[1], bias: $0[2])
        }
    }

    @Test func adjointsAppearInGradientGraphs() {
        let x = Variable(a, requiresGrad: true)
        let sliceGrad = Self.gradientGraph([x]) { $0[0].sliced(axis: 0, start: 1, end: 3).squared() }
        #expect(Self.recordedOps(sliceGrad[0]).contains { $0 is Unslice })
        let gatherGrad = Self.gradientGraph([x]) {
            $0[0].gathered(axis: 1, indices: TensorIndices(shape: [3, 1], values: [1, 1, 0])).squared()
        }
        #expect(Self.recordedOps(gatherGrad[0]).contains { $0 is ScatterAdd })
        let selectGrad = Self.gradientGraph([x]) { $0[0].indexSelected(axis: 0, indices: [0, 0]).squared() }
        #expect(Self.recordedOps(selectGrad[0]).contains { $0 is IndexAdd })
    }

    @Test func convolutionAndPooling() {
        let image = Tensor.randn([2, 2, 6, 6], dtype: .float64, generator: g)
        let kernel = Tensor.randn([3, 2, 3, 3], dtype: .float64, generator: g)
        expectRecords(Conv2dOp.self, [image, kernel]) { Variable.conv2d($0[0], weight: $0[1], stride: (2, 2)) }
        let grads = Self.gradientGraph([Variable(image, requiresGrad: true), Variable(kernel, requiresGrad: true)]) {
            Variable.conv2d($0[0], weight: $0[1], stride: (2, 2)).squared()
        }
        #expect(Self.recordedOps(grads[0]).contains { $0 is ConvTranspose2dOp })
        #expect(Self.recordedOps(grads[1]).contains { $0 is Conv2dWeightGradOp })
        expectRecords(MaxPoolGather.self, [image]) { $0[0].maxPool2d(kernelSize: 2) }
        expectRecords(WindowAverage.self, [image]) { $0[0].avgPool2d(kernelSize: 3, stride: 1) }
        let poolGrads = Self.gradientGraph([Variable(image, requiresGrad: true)]) {
            $0[0].maxPool2d(kernelSize: 2).squared() + $0[0].avgPool2d(kernelSize: 2).squared().sum()
        }
        #expect(Self.recordedOps(poolGrads[0]).contains { $0 is MaxPoolScatter })
        #expect(Self.recordedOps(poolGrads[0]).contains { $0 is WindowAverageAdjoint })
    }

    @Test func linearAlgebra() throws {
        let m = square
        expectRecords(Determinant.self, [m]) { $0[0].det() }
        expectRecords(LUSolve.self, [m, a]) { try! Variable.solve($0[0], $0[1]) }
        expectRecords(FrobeniusNorm.self, [a]) { try! $0[0].matrixNorm(.frobenius) }
        let symmetric = m + m.transposed()
        expectRecords(EighOp.self, [symmetric]) { x in
            let s = (x[0] + x[0].transposed()) * 0.5
            return try! s.eigh().values
        }
        expectRecords(QROp.self, [a.transposed()]) { try! $0[0].qr().R }
        expectRecords(SVDOp.self, [a]) { try! $0[0].svd().S }
        expectRecords(LogAbsDeterminant.self, [m]) { try! $0[0].slogdet().logAbsDet }
        expectRecords(Cholesky.self, [m.matmul(m.transposed())]) { x in
            try! ((x[0] + x[0].transposed()) * 0.5).cholesky()
        }
        expectRecords(TriangularSolve.self, [m, a]) { try! Variable.solveTriangular($0[0], $0[1], upper: true) }
    }

    @Test func attention() {
        expectRecords(ScaledDotProductAttention.self, [a.reshaped([1, 3, 4]), b.reshaped([1, 3, 4]), a.reshaped([1, 3, 4])]) {
            Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true)
        }
    }

    @Test func sequenceModelOps() {
        let image = Tensor.randn([1, 2, 3, 4], dtype: .float64, generator: g)
        expectRecords(Upsample.self, [image]) { $0[0].upsample(size: [5, 7], mode: .bilinear) }
        let upGrad = Self.gradientGraph([Variable(image, requiresGrad: true)]) { $0[0].upsample(scaleFactor: 2).squared() }
        #expect(Self.recordedOps(upGrad[0]).contains { $0 is UpsampleAdjoint })
        expectRecords(VectorNorm.self, [a]) { $0[0].norm(p: 3, axes: [1]) }
        expectRecords(Gather.self, [a]) { $0[0].topk(k: 2).values }
        expectRecords(MatMul.self, [a, b]) { Variable.einsum("ij,kj->ik", $0) }
    }
}

extension Tensor {
    fileprivate func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
}
