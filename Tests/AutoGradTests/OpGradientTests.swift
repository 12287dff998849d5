import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Finite-difference checks of every differentiable op on Variable, first and (where the op is twice
// differentiable) second order, in Double with fixed seeds. Inputs stay away from kinks and
// singularities; the behaviour at kinks is pinned exactly in KinkTests.

/// Shape pairs every binary op is checked on: equal, scalar, broadcast on both sides, a trailing
/// vector, scalar with matrix (both orders), and a rank-raising broadcast.
private let binaryShapes: [([Int], [Int])] = [
    ([3, 4], [3, 4]), ([], []), ([4, 1], [1, 5]), ([3, 4], [4]), ([], [3, 4]), ([3, 4], []), ([2, 1, 4], [3, 1]),
]

/// Shapes every elementwise op is checked on: a matrix, a scalar, rank 3.
private let unaryShapes: [[Int]] = [[3, 4], [], [2, 3, 2]]

private func checkBinary(_ label: String, _ da: Domain = .any, _ db: Domain = .any, secondOrder: Bool = true,
                         sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) -> Variable) {
    for (i, (sa, sb)) in binaryShapes.enumerated() {
        let inputs = [sample(sa, da, seed: UInt64(2 * i)), sample(sb, db, seed: UInt64(2 * i + 1))]
        expectGradients(label, inputs, secondOrder: secondOrder, sourceLocation: sourceLocation, f)
    }
    // With only one side requiring a gradient (ops skip the other side's formula).
    let inputs = [sample([4, 1], da, seed: 90), sample([1, 5], db, seed: 91)]
    expectGradients("\(label), a only", inputs, checking: [true, false], sourceLocation: sourceLocation, f)
    expectGradients("\(label), b only", inputs, checking: [false, true], sourceLocation: sourceLocation, f)
}

private func checkUnary(_ label: String, _ domain: Domain = .any, secondOrder: Bool = true,
                        sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping (Variable) -> Variable) {
    for (i, shape) in unaryShapes.enumerated() {
        expectGradients(label, [sample(shape, domain, seed: UInt64(100 + i))], secondOrder: secondOrder,
                        sourceLocation: sourceLocation) { f($0[0]) }
    }
}

@Suite struct ArithmeticGradientTests {
    @Test func add() { checkBinary("add") { $0[0] + $0[1] } }
    @Test func subtract() { checkBinary("subtract") { $0[0] - $0[1] } }
    @Test func multiply() { checkBinary("multiply") { $0[0] * $0[1] } }
    @Test func divide() { checkBinary("divide", .any, .nonzero) { $0[0] / $0[1] } }
    @Test func negate() { checkUnary("negate") { -$0 } }
    @Test func powerOfTwoTensors() { checkBinary("pow(a, b)", .positive, .any) { Variable.pow($0[0], $0[1]) } }

    @Test func sameVariableOnBothSides() {
        // The engine must add the two contributions: d(x·x)/dx = 2x, d(x/x)/dx = 0.
        checkUnary("x * x") { $0 * $0 }
        checkUnary("x / x", .nonzero) { $0 / $0 }
        checkUnary("pow(x, x)", .positive) { Variable.pow($0, $0) }
    }

    @Test func scalarOnEitherSide() {
        checkUnary("x + s") { $0 + 1.5 }
        checkUnary("s + x") { 1.5 + $0 }
        checkUnary("x - s") { $0 - 0.7 }
        checkUnary("s - x") { 0.7 - $0 }
        checkUnary("x * s") { $0 * 2.5 }
        checkUnary("s * x") { -2.5 * $0 }
        checkUnary("x / s") { $0 / 4 }
        checkUnary("s / x", .nonzero) { 3 / $0 }
    }

    @Test(arguments: [2.0, 3, 1, 0, -1, -2.5, 0.5, 1.7])
    func powerWithConstantExponent(p: Double) {
        checkUnary("pow(\(p))", .positive) { $0.pow(p) }
    }

    @Test func integerPowersOfNegativeNumbers() {
        checkUnary("pow(3) on any sign") { $0.pow(3) }
        checkUnary("pow(-2) on any sign", .nonzero) { $0.pow(-2) }
        checkUnary("squared") { $0.squared() }
    }
}

@Suite struct ElementwiseGradientTests {
    @Test func exp() { checkUnary("exp") { $0.exp() } }
    @Test func log() { checkUnary("log", .positive) { $0.log() } }
    @Test func sqrt() { checkUnary("sqrt", .positive) { $0.sqrt() } }
    @Test func abs() { checkUnary("abs", .nonzero) { $0.abs() } }
    @Test func sign() { checkUnary("sign", .nonzero) { $0.sign() } }
    @Test func tanh() { checkUnary("tanh") { ($0 * 2).tanh() } }
    @Test func sigmoid() { checkUnary("sigmoid") { ($0 * 3).sigmoid() } }
    @Test func relu() { checkUnary("relu", .nonzero) { $0.relu() } }
    @Test func leakyReLU() {
        checkUnary("leakyReLU", .nonzero) { $0.leakyReLU(negativeSlope: 0.2) }
        // A steep negative side (slope > 1) and a slope of 0 (ReLU) through the same primitive.
        checkUnary("leakyReLU slope 3", .nonzero) { $0.leakyReLU(negativeSlope: 3) }
        checkUnary("leakyReLU slope 0", .nonzero) { $0.leakyReLU(negativeSlope: 0) }
    }

    @Test func clamped() {
        checkUnary("clamped both") { $0.clamped(min: -0.45, max: 0.55) }
        checkUnary("clamped min") { $0.clamped(min: 0.1) }
        checkUnary("clamped max") { $0.clamped(max: -0.2) }
    }

    @Test func maximumAndMinimum() {
        for (i, (sa, sb)) in binaryShapes.enumerated() {
            let (a, b) = distinctPair(sa, sb, seed: UInt64(i))
            expectGradients("maximum", [a, b], secondOrder: true) { Variable.maximum($0[0], $0[1]) }
            expectGradients("minimum", [a, b], secondOrder: true) { Variable.minimum($0[0], $0[1]) }
        }
    }

    @Test func whereWithBroadcasting() {
        let cases: [(condition: Tensor, a: [Int], b: [Int])] = [
            (Tensor(shape: [3, 4], scalars: [1.0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0]), [3, 4], [3, 4]),
            (Tensor(shape: [3, 1], scalars: [1.0, 0, 1]), [3, 4], [4]),
            (Tensor(shape: [4], scalars: [0.0, 1, 1, 0]), [], [3, 1]),
            (Tensor(1.0), [], []),
        ]
        for (i, c) in cases.enumerated() {
            let inputs = [sample(c.a, seed: UInt64(i)), sample(c.b, seed: UInt64(10 + i))]
            expectGradients("where", inputs, secondOrder: true) { Variable.where(c.condition, $0[0], $0[1]) }
        }
    }

    @Test func composition() {
        // A chain of ops on shared subexpressions, with broadcasting, checked end to end.
        let inputs = [sample([3, 4], seed: 1), sample([4], .positive, seed: 2)]
        expectGradients("composition", inputs, secondOrder: true) { xs in
            let h = (xs[0] * xs[1]).tanh()
            return (h * h + xs[1].log()).sigmoid() * h
        }
    }
}

@Suite struct ReductionGradientTests {
    /// Axis choices for a rank-3 input, `nil` meaning all axes.
    static let axesChoices: [[Int]?] = [nil, [0], [1], [-1], [0, 2], [0, 1, 2]]

    private func checkReduction(_ label: String, _ domain: Domain = .any, secondOrder: Bool = true,
                                sourceLocation: SourceLocation = #_sourceLocation,
                                _ f: @escaping (Variable, [Int]?, Bool) -> Variable) {
        for (i, axes) in Self.axesChoices.enumerated() {
            for keepDims in [false, true] {
                let x = sample([2, 3, 4], domain, seed: UInt64(i))
                expectGradients("\(label)(axes: \(String(describing: axes)), keepDims: \(keepDims))", [x],
                                secondOrder: secondOrder, sourceLocation: sourceLocation) { f($0[0], axes, keepDims) }
            }
        }
        for keepDims in [false, true] {
            expectGradients("\(label) of a scalar", [sample([], domain, seed: 9)], secondOrder: secondOrder,
                            sourceLocation: sourceLocation) { f($0[0], nil, keepDims) }
        }
    }

    @Test func sum() { checkReduction("sum") { $0.sum(axes: $1, keepDims: $2) } }
    @Test func mean() { checkReduction("mean") { $0.mean(axes: $1, keepDims: $2) } }
    @Test func max() { checkReduction("max", .distinct) { $0.max(axes: $1, keepDims: $2) } }
    @Test func min() { checkReduction("min", .distinct) { $0.min(axes: $1, keepDims: $2) } }
    @Test func logSumExp() { checkReduction("logSumExp") { $0.logSumExp(axes: $1, keepDims: $2) } }

    @Test func variance() {
        for correction in [0, 1] {
            for (i, axes) in Self.axesChoices.enumerated() {
                for keepDims in [false, true] {
                    expectGradients("variance(axes: \(String(describing: axes)), correction: \(correction))",
                                    [sample([2, 3, 4], seed: UInt64(i))], secondOrder: true) {
                        $0[0].variance(axes: axes, correction: correction, keepDims: keepDims)
                    }
                }
            }
        }
    }

    @Test func softmaxAndLogSoftmax() {
        for shape in [[5], [3, 4], [2, 3, 4]] {
            for axis in [0, -1] + (shape.count == 3 ? [1] : []) {
                let x = sample(shape, seed: UInt64(shape.count * 10 + axis + 5)) * 3
                expectGradients("softmax(axis: \(axis))", [x], secondOrder: true) { $0[0].softmax(axis: axis) }
                expectGradients("logSoftmax(axis: \(axis))", [x], secondOrder: true) { $0[0].logSoftmax(axis: axis) }
            }
        }
    }
}

@Suite struct ShapeGradientTests {
    @Test func reshaped() {
        expectGradients("reshape [3,4] → [2,6]", [sample([3, 4], seed: 1)], secondOrder: true) { $0[0].reshaped([2, 6]) }
        expectGradients("reshape [3,4] → [4,-1,1]", [sample([3, 4], seed: 2)], secondOrder: true) { $0[0].reshaped([4, -1, 1]) }
        expectGradients("reshape [] → [1,1]", [sample([], seed: 3)], secondOrder: true) { $0[0].reshaped([1, 1]) }
        expectGradients("reshape [1] → []", [sample([1], seed: 4)], secondOrder: true) { $0[0].reshaped([]) }
        // A reshape feeding an op whose gradient depends on the layout.
        expectGradients("reshape then weight", [sample([2, 6], seed: 5)], secondOrder: true) {
            $0[0].reshaped([3, 4]) * Variable(Tensor.arange(0, 4, dtype: .float64))
        }
    }

    @Test func permutedAndTransposed() {
        let x = sample([2, 3, 4], seed: 1)
        for axes in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [-1, 0, 1]] {
            expectGradients("permute \(axes)", [x], secondOrder: true) { $0[0].permuted(axes) }
        }
        expectGradients("transpose", [x], secondOrder: true) { $0[0].transposed() }
        expectGradients("transpose(0, 2)", [x], secondOrder: true) { $0[0].transposed(0, 2) }
        expectGradients("transpose matrix", [sample([3, 5], seed: 2)], secondOrder: true) { $0[0].transposed() }
    }

    @Test func broadcastAndSumToShape() {
        let pairs: [([Int], [Int])] = [([3, 1], [2, 3, 4]), ([], [2, 3]), ([4], [3, 4]), ([1, 4], [3, 4]), ([2, 1, 1], [2, 3, 4])]
        for (i, (small, large)) in pairs.enumerated() {
            expectGradients("broadcast \(small) → \(large)", [sample(small, seed: UInt64(i))], secondOrder: true) {
                $0[0].broadcast(to: large)
            }
            expectGradients("sum \(large) → \(small)", [sample(large, seed: UInt64(i))], secondOrder: true) {
                $0[0].sum(toShape: small)
            }
        }
    }

    @Test func squeezeUnsqueezeFlatten() {
        let x = sample([3, 1, 4], seed: 1)
        expectGradients("squeeze all", [x], secondOrder: true) { $0[0].squeezed() }
        expectGradients("squeeze axis 1", [x], secondOrder: true) { $0[0].squeezed(axis: 1) }
        expectGradients("unsqueeze 0", [x], secondOrder: true) { $0[0].unsqueezed(axis: 0) }
        expectGradients("unsqueeze -1", [x], secondOrder: true) { $0[0].unsqueezed(axis: -1) }
        expectGradients("unsqueeze scalar", [sample([], seed: 2)], secondOrder: true) { $0[0].unsqueezed(axis: 0) }
        let y = sample([2, 3, 4], seed: 3)
        expectGradients("flatten", [y], secondOrder: true) { $0[0].flattened() }
        expectGradients("flatten from 1", [y], secondOrder: true) { $0[0].flattened(startAxis: 1) }
    }

    @Test func sliced() {
        let x = sample([5, 7], seed: 1)
        let slices: [(axis: Int, start: Int, end: Int, step: Int)] = [
            (0, 1, 4, 1), (1, 0, 7, 2), (1, 1, 7, 3), (-1, 2, 3, 1), (0, 0, 5, 4), (0, 2, 2, 1),
        ]
        for s in slices {
            expectGradients("slice \(s)", [x], secondOrder: true) {
                $0[0].sliced(axis: s.axis, start: s.start, end: s.end, step: s.step)
            }
        }
        expectGradients("slice rank 3", [sample([2, 5, 3], seed: 2)], secondOrder: true) {
            $0[0].sliced(axis: 1, start: 1, end: 5, step: 2)
        }
    }

    @Test func concatenateAndStack() {
        let parts = [sample([2, 3], seed: 1), sample([1, 3], seed: 2), sample([3, 3], seed: 3)]
        expectGradients("concatenate axis 0", parts, secondOrder: true) { Variable.concatenate($0, axis: 0) }
        let columns = [sample([2, 1], seed: 4), sample([2, 3], seed: 5)]
        expectGradients("concatenate axis -1", columns, secondOrder: true) { Variable.concatenate($0, axis: -1) }
        // One part is a constant: only the others get gradients.
        let constant = Variable(sample([2, 3], seed: 6))
        expectGradients("concatenate with a constant", [parts[0]], secondOrder: true) {
            Variable.concatenate([constant, $0[0], constant], axis: 1)
        }
        let same = [sample([2, 3], seed: 7), sample([2, 3], seed: 8), sample([2, 3], seed: 9)]
        for axis in [0, 1, 2, -1] {
            expectGradients("stack axis \(axis)", same, secondOrder: true) { Variable.stack($0, axis: axis) }
        }
        expectGradients("stack scalars", [sample([], seed: 10), sample([], seed: 11)], secondOrder: true) { Variable.stack($0) }
    }

    @Test func padded() {
        let x = sample([2, 3], seed: 1)
        expectGradients("pad last dimension", [x], secondOrder: true) { $0[0].padded([(before: 1, after: 2)]) }
        expectGradients("pad both dimensions with a value", [x], secondOrder: true) {
            $0[0].padded([(before: 1, after: 0), (before: 0, after: 2)], value: 0.5)
        }
        expectGradients("pad rank 3", [sample([2, 2, 3], seed: 2)], secondOrder: true) {
            $0[0].padded([(before: 2, after: 1), (before: 1, after: 1)])
        }
    }

    @Test func gathered() {
        let x = sample([3, 4], seed: 1)
        // Repeated indices: the gradient must add up (scatter-add).
        let rows = TensorIndices(shape: [2, 4], values: [0, 2, 2, 1, 2, 2, 0, 1])
        expectGradients("gather axis 0", [x], secondOrder: true) { $0[0].gathered(axis: 0, indices: rows) }
        let columns = TensorIndices(shape: [3, 2], values: [3, 3, 0, 1, 2, 0])
        expectGradients("gather axis 1", [x], secondOrder: true) { $0[0].gathered(axis: 1, indices: columns) }
        let smaller = TensorIndices(shape: [2, 5], values: [0, 1, 3, 3, 3, 2, 0, 0, 1, 2])
        expectGradients("gather with more indices than columns", [x], secondOrder: true) {
            $0[0].gathered(axis: -1, indices: smaller)
        }
        let cube = TensorIndices(shape: [2, 2, 2], values: [1, 0, 2, 2, 0, 0, 1, 2])
        expectGradients("gather rank 3", [sample([2, 3, 2], seed: 2)], secondOrder: true) {
            $0[0].gathered(axis: 1, indices: cube)
        }
    }

    @Test func adjointOpsUsedByBackward() {
        // Unslice, ScatterAdd and IndexAdd are the backward of slice, gather and indexSelect; checked directly too.
        expectGradients("Unslice", [sample([5, 2], seed: 1)], secondOrder: true) {
            Unslice(fullShape: [5, 7], axis: 1, start: 1, end: 5, step: 3)($0[0])
        }
        let indices = TensorIndices(shape: [2, 4], values: [0, 2, 2, 1, 2, 2, 0, 1])
        expectGradients("ScatterAdd", [sample([2, 4], seed: 2)], secondOrder: true) {
            ScatterAdd(shape: [3, 4], axis: 0, indices: indices)($0[0])
        }
        expectGradients("IndexAdd", [sample([3, 3], seed: 3)], secondOrder: true) {
            IndexAdd(shape: [3, 4], axis: 1, indices: [3, 0, 3])($0[0])
        }
    }

    @Test func indexSelected() {
        let x = sample([3, 4], seed: 1)
        expectGradients("indexSelect axis 0", [x], secondOrder: true) { $0[0].indexSelected(axis: 0, indices: [2, 0, 2]) }
        expectGradients("indexSelect axis 1", [x], secondOrder: true) { $0[0].indexSelected(axis: 1, indices: [3, 3, 1]) }
        expectGradients("indexSelect rank 3", [sample([2, 3, 2], seed: 2)], secondOrder: true) {
            $0[0].indexSelected(axis: 1, indices: [1, 1, 0, 2])
        }
    }
}

/// `Variable.linear`: x·Wᵀ + b as one op (rows of any rank of x), its gradients in every order, the edge shapes, and
/// PyTorch's `torch.nn.functional.linear`.
@Suite struct LinearOpTests {
    private static let shapes: [(label: String, x: [Int], out: Int)] = [
        ("rows", [3, 4], 5), ("vector", [4], 2), ("stack", [2, 3, 4], 3), ("one feature out", [3, 4], 1),
    ]

    @Test func gradientsMatchFiniteDifferences() {
        for (i, c) in Self.shapes.enumerated() {
            let inputs = [sample(c.x, seed: 300 + UInt64(i)), sample([c.out, c.x.last!], seed: 310 + UInt64(i)),
                          sample([c.out], seed: 320 + UInt64(i))]
            expectGradients("linear, \(c.label)", inputs, secondOrder: true) { Variable.linear($0[0], weight: $0[1], bias: $0[2]) }
            expectGradients("linear without bias, \(c.label)", Array(inputs.prefix(2)), secondOrder: true) {
                Variable.linear($0[0], weight: $0[1])
            }
        }
    }

    /// No rows: an empty output and zero gradients for the weight and bias; no in-features: the bias in every row.
    @Test func emptyShapes() {
        let w = Variable(sample([3, 4], seed: 330), requiresGrad: true), b = Variable(Tensor([1.0, -2, 0.5]), requiresGrad: true)
        let none = Variable.linear(Variable(Tensor.zeros([0, 4]), requiresGrad: true), weight: w, bias: b)
        #expect(none.shape == [0, 3])
        none.sum().backward()
        #expect(w.grad?.shape == [3, 4] && w.grad!.doubles.allSatisfy { $0 == 0 })
        #expect(b.grad?.shape == [3] && b.grad!.doubles.allSatisfy { $0 == 0 })
        let flat = Variable.linear(Variable(Tensor.zeros([2, 0])), weight: Variable(Tensor.zeros([3, 0])), bias: b)
        #expect(flat.value.doubles == [1, -2, 0.5, 1, -2, 0.5])
    }

    /// Float rows (the product adds onto the bias rows) against Double.
    @Test func floatMatchesDouble() {
        let x = sample([70, 33], seed: 340), w = sample([17, 33], seed: 341), b = sample([17], seed: 342)
        let double = Variable.linear(Variable(x), weight: Variable(w), bias: Variable(b)).value
        let float = Variable.linear(Variable(x.to(.float32)), weight: Variable(w.to(.float32)), bias: Variable(b.to(.float32))).value
        #expect(float.dtype == .float32)
        #expect(mismatch(float, double, atol: 1e-5, rtol: 1e-5) == nil)
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let expression = "torch.nn.functional.linear(x[0], x[1], x[2])"
        try compareWithTorch([
            TorchComparison(expression, [sample([3, 4], seed: 350), sample([5, 4], seed: 351), sample([5], seed: 352)], seed: 353) {
                Variable.linear($0[0], weight: $0[1], bias: $0[2])
            },
            TorchComparison(expression, [sample([2, 3, 4], seed: 354), sample([2, 4], seed: 355), sample([2], seed: 356)], seed: 357) {
                Variable.linear($0[0], weight: $0[1], bias: $0[2])
            },
            TorchComparison("torch.nn.functional.linear(x[0], x[1])", [sample([4], seed: 358), sample([3, 4], seed: 359)], seed: 360) {
                Variable.linear($0[0], weight: $0[1])
            },
        ])
    }
}

@Suite struct MatMulGradientTests {
    private func check(_ label: String, _ a: [Int], _ b: [Int], transposeA: Bool = false, transposeB: Bool = false,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        expectGradients(label, [sample(a, seed: 1), sample(b, seed: 2)], secondOrder: true, sourceLocation: sourceLocation) {
            Variable.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB)
        }
    }

    @Test func matrices() {
        check("2-D", [3, 4], [4, 5])
        check("method form", [2, 3], [3, 2])
        expectGradients("x.matmul(x)", [sample([3, 3], seed: 3)], secondOrder: true) { $0[0].matmul($0[0]) }
    }

    @Test func transposeFlags() {
        check("Aᵀ·B", [4, 3], [4, 5], transposeA: true)
        check("A·Bᵀ", [3, 4], [5, 4], transposeB: true)
        check("Aᵀ·Bᵀ", [4, 3], [5, 4], transposeA: true, transposeB: true)
        check("batched Aᵀ·Bᵀ", [2, 4, 3], [2, 5, 4], transposeA: true, transposeB: true)
    }

    @Test func batchedAndBroadcast() {
        check("batched", [2, 3, 4], [2, 4, 5])
        check("batch against matrix", [2, 3, 4], [4, 2])
        check("stack of batches against matrixᵀ", [2, 2, 3, 4], [5, 4], transposeB: true)
        check("batchᵀ against matrix (not folded)", [2, 4, 3], [4, 2], transposeA: true)
        check("matrix against batch", [3, 4], [2, 4, 2])
        check("broadcast batch dimensions", [2, 1, 3, 4], [3, 4, 2])
        check("broadcast batch with transposeB", [1, 2, 3, 4], [2, 1, 5, 4], transposeB: true)
    }

    @Test func vectorOperands() {
        check("vector · matrix", [4], [4, 5])
        check("matrix · vector", [3, 4], [4])
        check("vector · vector", [4], [4])
        check("vector · batch", [4], [2, 4, 3])
        check("batch · vector", [2, 3, 4], [4])
        check("vector · matrixᵀ", [4], [5, 4], transposeB: true)
        check("matrixᵀ · vector", [4, 3], [4], transposeA: true)
    }
}
