import AutoGrad
import Testing

// The snippets of AutoGrad's DocC articles as the docs show them (scripts/sync-doc-snippets.py copies them here,
// DocSnippetSyncTests fails when they differ); running them checks that they still work, not only compile.

@Suite struct AutoGradArticleSnippets {
    @Test func overview() {
        // snippet: Sources/AutoGrad/AutoGrad.docc/AutoGrad.md#1
        let w = Variable(Tensor.randn([3, 2]), requiresGrad: true)
        let x = Variable(Tensor.ones([4, 3]))
        let loss = x.matmul(w).relu().sum()
        loss.backward()
        print(w.grad!)        // ∂loss/∂w, shape [3, 2]
        // end snippet
        #expect(w.grad!.shape == [3, 2])
    }

    @Test func gettingStartedTensorsAndGradients() throws {
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#1
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6] as [Float])
        let b = Tensor([10.0, 20.0, 30.0])                 // [3], float64 (from [Double])
        let c = Tensor.randn([2, 3], generator: RandomGenerator(seed: 42))
        let z = Tensor.zeros([2, 3], dtype: .float64)
        let s = Tensor(2.0)                                 // rank 0

        print(a.shape, a.rank, a.count, a.dtype)            // [2, 3] 2 6 float32
        print(a[1, 2], a[flat: 4], a.doubles)               // 6.0 5.0 [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#2
        let row = a + b                     // [2, 3] + [3]  → [2, 3]
        let scaled = a * 2 - 1              // with Double scalars
        let m = a.sum(axes: [1])            // [2]: row sums
        let p = a.softmax(axis: -1)         // [2, 3]
        let t = a.transposed()              // [3, 2]
        let q = Tensor.matmul(a, t)         // [2, 2], on OpenBLAS
        let mask = a .> 3                   // 1 where a > 3, else 0
        let picked = Tensor.where(mask, a, z)
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#3
        let x = Variable(Tensor([1.0, 2.0, 3.0]), requiresGrad: true)
        let y = (x * x).sum()               // y = Σ x²
        y.backward()
        print(x.grad!)                      // tensor([2.0, 4.0, 6.0], dtype=float64) = 2x
        // end snippet
        _ = (c, s, row, scaled, m, p, q, picked)
        #expect(x.grad!.doubles == [2, 4, 6])
    }

    @Test func gettingStartedLinearFit() {
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#4
        let g = RandomGenerator(seed: 0)
        let xs = Tensor.uniform([64, 1], low: -1, high: 1, generator: g)          // inputs, [64, 1]
        let ys = xs * 3 - 2 + Tensor.normal([64, 1], std: 0.1, generator: g)     // targets, [64, 1]

        let w = Variable(Tensor.zeros([1, 1]), requiresGrad: true)
        let b = Variable(Tensor.zeros([1]), requiresGrad: true)
        let learningRate = 0.1

        for step in 0..<200 {
            let prediction = Variable(xs).matmul(w) + b                 // [64, 1]; b broadcasts
            let loss = (prediction - Variable(ys)).squared().mean()     // mean squared error, []
            w.zeroGrad()
            b.zeroGrad()
            loss.backward()
            Graph.noGrad {
                w.value -= w.grad! * learningRate
                b.value -= b.grad! * learningRate
            }
            if step % 50 == 0 { print("step \(step): loss \(loss.value.item)") }
        }
        print(w.value.item, b.value.item)    // close to 3 and −2
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#5
        let test = Graph.noGrad { Variable(Tensor.full([1, 1], 0.5)).matmul(w) + b }   // ≈ 3·0.5 − 2
        print(test.requiresGrad)            // false
        // end snippet
        #expect(Swift.abs(w.value.item - 3) < 0.1 && Swift.abs(b.value.item + 2) < 0.1)
        #expect(Swift.abs(test.value.item + 0.5) < 0.1)
    }

    @Test func gettingStartedGradcheck() throws {
        // snippet: Sources/AutoGrad/AutoGrad.docc/GettingStarted.md#6
        try gradcheck({ v in (v[0] * v[1]).tanh().sum(axes: [1]) },
                      inputs: [Tensor.randn([3, 4], dtype: .float64), Tensor.randn([4], dtype: .float64)])
        // end snippet
    }

    @Test func higherOrderGradients() throws {
        // snippet: Sources/AutoGrad/AutoGrad.docc/HigherOrderGradients.md#1
        let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        let f = x.pow(3).sum()                                                      // f = Σ x³

        let df = Graph.gradients(of: f, withRespectTo: [x], createGraph: true)[0]   // 3x² = [3, 12]
        let d2f = Graph.gradients(of: df.sum(), withRespectTo: [x])[0]              // 6x  = [6, 12]
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/HigherOrderGradients.md#2
        let z = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        let dz = Graph.gradients(of: z.pow(3).sum(), withRespectTo: [z], createGraph: true)[0]   // 3z²
        let v = Tensor([1.0, 0.5])
        let hv = Graph.gradients(of: dz, withRespectTo: [z], seed: v)[0]            // H·v = 6z·v = [6, 6]
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/HigherOrderGradients.md#3
        let g = RandomGenerator(seed: 1)
        let w1 = Variable(Tensor.randn([4, 8], dtype: .float64, generator: g), requiresGrad: true)
        let w2 = Variable(Tensor.randn([8, 1], dtype: .float64, generator: g), requiresGrad: true)
        func critic(_ x: Variable) -> Variable { x.matmul(w1).tanh().matmul(w2) }   // [n, 4] → [n, 1]

        let xHat = Variable(Tensor.randn([16, 4], dtype: .float64, generator: g), requiresGrad: true)
        let scores = critic(xHat).sum()

        // ∇ₓ D for every sample, as a differentiable variable of shape [16, 4].
        let gradX = Graph.gradients(of: scores, withRespectTo: [xHat], createGraph: true)[0]
        let norms = (gradX.squared().sum(axes: [1]) + 1e-12).sqrt()                 // [16]
        let penalty = (norms - 1).squared().mean()

        penalty.backward()        // second order: w1.grad and w2.grad now hold ∂penalty/∂w
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/HigherOrderGradients.md#4
        let y = Variable(Tensor([0.5, -1.0]), requiresGrad: true)
        (y * y * y).sum().backward(createGraph: true)
        let gy = y.gradVariable!                 // 3y², connected to the graph
        y.zeroGrad()                             // before the next backward: it would add into the old gradient
        gy.sum().backward()
        print(y.grad!)                           // 6y = [3, −6]
        // end snippet
        // snippet: Sources/AutoGrad/AutoGrad.docc/HigherOrderGradients.md#5
        try gradgradcheck({ v in (v[0] * v[1]).tanh() },
                          inputs: [Tensor.randn([3, 4], dtype: .float64), Tensor.randn([4], dtype: .float64)])
        // end snippet
        #expect(df.value.doubles == [3, 12] && d2f.value.doubles == [6, 12])
        #expect(hv.value.doubles == [6, 6] && y.grad!.doubles == [3, -6])
        #expect(w1.grad != nil && w2.grad != nil)
    }

    @Test func linearAlgebra() throws {
        // snippet: Sources/AutoGrad/AutoGrad.docc/LinearAlgebra.md#1
        let x = Variable(Tensor.randn([5, 3], dtype: .float64), requiresGrad: true)
        let a = x.matmul(x.transposed()) + Variable(Tensor.eye(5, dtype: .float64))   // SPD
        let l = try a.cholesky()
        let logDet = 2 * l.diagonal().log().sum()                                      // log|A|
        logDet.backward()                                                              // x.grad = ∂ log|A| / ∂x
        // end snippet
        #expect(x.grad!.shape == [5, 3])
    }
}
