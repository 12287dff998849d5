import Testing
@testable import AutoGrad

/// Gradient hooks and post-accumulate hooks: when they run, how often, in which order, and what a returned gradient
/// changes. Expected values are derivatives worked out by hand.
@Suite struct GradientHookTests {
    /// A leaf used on two paths gets its hook called once, with the sum of both paths, before accumulation.
    @Test func gradientHookSeesTheCompletePassGradientOnce() {
        let w = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        var seen: [[Double]] = []
        var gradAtHook: [Double]?
        w.registerHook { g in
            seen.append(g.value.doubles)
            gradAtHook = w.grad?.doubles
            return nil
        }
        // L = Σ (3w + w²): ∂L/∂w = 3 + 2w = [5, 7], reaching w along two paths.
        ((w * 3) + w * w).sum().backward()
        #expect(seen == [[5, 7]])
        #expect(gradAtHook == nil)            // before this pass's accumulation
        ((w * 3) + w * w).sum().backward()
        #expect(seen == [[5, 7], [5, 7]])
        #expect(gradAtHook == [5, 7])         // the first pass's gradient, not yet the second's
        #expect(w.grad!.doubles == [10, 14])
    }

    /// The post-accumulate hook runs once per pass, after `grad` holds that pass's sum.
    @Test func postAccumulateHookRunsAfterAccumulationOncePerPass() {
        let w = Variable(Tensor([1.0, -1.0]), requiresGrad: true)
        var grads: [[Double]] = []
        w.registerPostAccumulateGradHook { leaf in grads.append(leaf.grad!.doubles) }
        // L = Σ w·w·w through three uses: ∂L/∂w = 3w² = [3, 3].
        (w * w * w).sum().backward()
        (w * w * w).sum().backward()
        #expect(grads == [[3, 3], [6, 6]])
    }

    /// A returned gradient replaces the pass's gradient in `grad`, and later hooks see the replacement.
    @Test func hookThatReturnsAGradientReplacesIt() {
        let w = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        var second: [Double]?
        w.registerHook { g in g * 10 }
        w.registerHook { g in second = g.value.doubles; return nil }
        (w * w).sum().backward()              // 2w = [2, 4], times 10
        #expect(second == [20, 40])
        #expect(w.grad!.doubles == [20, 40])
    }

    /// On an intermediate result the hook changes what flows on to the ops before it.
    @Test func hookOnANonLeafChangesUpstreamGradients() {
        let x = Variable(Tensor([3.0]), requiresGrad: true)
        let y = x * x                          // dy/dx = 2x = 6
        var atY: [Double]?
        y.registerHook { g in atY = g.value.doubles; return g * -1 }
        (y * 5).sum().backward()               // ∂L/∂y = 5, negated → ∂L/∂x = −5·6
        #expect(atY == [5])
        #expect(x.grad!.doubles == [-30])
    }

    /// Leaves finish in the order backward stops needing them: in a two-layer network the last layer's parameters
    /// come first, and each leaf's post-accumulate hook runs before backward reaches the layer before.
    @Test func leavesFinishInReverseOrderOfUse() {
        let g = RandomGenerator(seed: 3)
        let w1 = Variable(Tensor.randn([4, 3], dtype: .float64, generator: g), requiresGrad: true)
        let b1 = Variable(Tensor.randn([3], dtype: .float64, generator: g), requiresGrad: true)
        let w2 = Variable(Tensor.randn([3, 2], dtype: .float64, generator: g), requiresGrad: true)
        let b2 = Variable(Tensor.randn([2], dtype: .float64, generator: g), requiresGrad: true)
        var order: [String] = []
        for (name, p) in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)] {
            p.registerPostAccumulateGradHook { _ in order.append(name) }
        }
        let x = Variable(Tensor.randn([5, 4], dtype: .float64, generator: g))
        ((x.matmul(w1) + b1).tanh().matmul(w2) + b2).sum().backward()
        #expect(order == ["b2", "w2", "b1", "w1"])
    }

    /// A removed hook is not called again; a hook on a leaf that is itself the output runs too.
    @Test func removedHooksStopAndRootLeavesAreHooked() {
        let w = Variable(Tensor([2.0]), requiresGrad: true)
        var calls = 0
        let handle = w.registerHook { _ in calls += 1; return nil }
        w.backward()
        #expect(calls == 1)
        #expect(w.grad!.doubles == [1])
        handle.remove()
        w.backward()
        #expect(calls == 1)
    }

    /// `Graph.gradients` returns hooked gradients for leaves and accumulates (and post-accumulates) nothing.
    @Test func gradientsOfRunsGradientHooksOnly() {
        let w = Variable(Tensor([1.5]), requiresGrad: true)
        var post = 0
        w.registerHook { g in g + 1 }
        w.registerPostAccumulateGradHook { _ in post += 1 }
        let dw = Graph.gradients(of: (w * w).sum(), withRespectTo: [w])[0]
        #expect(dw.value.doubles == [4])      // 2w + 1
        #expect(w.grad == nil)
        #expect(post == 0)
    }

    /// Under `createGraph` a hook's result is recorded like any gradient: a squaring hook on `w` for L = Σ w³ stores
    /// (3w²)² = 9w⁴, whose derivative is 36w³.
    @Test func hookedGradientIsDifferentiable() {
        let w = Variable(Tensor([0.5, -1.5]), requiresGrad: true)
        let handle = w.registerHook { g in g * g }
        (w * w * w).sum().backward(createGraph: true)
        #expect(w.grad!.doubles == [9 * 0.0625, 9 * 5.0625])
        handle.remove()
        let hooked = w.gradVariable!.sum()
        w.zeroGrad()
        hooked.backward()
        let expected = [36 * 0.125, 36 * -3.375]
        #expect(zip(w.grad!.doubles, expected).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(w.grad!.doubles)")
    }
}
