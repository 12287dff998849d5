import Foundation
import Testing
@testable import Optim

@Suite struct LBFGSTests {
    /// Rosenbrock's function (1 − x)² + 100 (y − x²)² of the parameter (x, y), from (−1.5, 2).
    func rosenbrock(_ p: Variable) -> Variable {
        let x = p.sliced(axis: 0, start: 0, end: 1), y = p.sliced(axis: 0, start: 1, end: 2)
        return ((1 - x).squared() + 100 * (y - x.squared()).squared()).sum()
    }

    /// The parameter after each of `calls` steps of `make(p)`.
    func run(calls: Int, _ make: ([Variable]) -> LBFGS) -> (points: [[Double]], optimizer: LBFGS) {
        let p = Variable(Tensor([-1.5, 2.0]), requiresGrad: true)
        let optimizer = make([p])
        let points = (0..<calls).map { _ -> [Double] in
            optimizer.step {
                optimizer.zeroGrad()
                let loss = rosenbrock(p)
                loss.backward()
                return loss.value.item
            }
            return p.value.doubles
        }
        return (points, optimizer)
    }

    @Test func theStrongWolfeSearchFindsRosenbrocksMinimum() {
        let (points, optimizer) = run(calls: 10) { LBFGS($0, lineSearch: .strongWolfe) }
        #expect(abs(points.last![0] - 1) < 1e-4 && abs(points.last![1] - 1) < 1e-4, "\(points)")
        #expect(optimizer.iterations <= 200 && optimizer.evaluations >= optimizer.iterations)
    }

    @Test func aQuadraticConvergesInOneStep() {
        // ½ Σ aᵢθᵢ² + bᵢθᵢ, minimal at θ = −b/a: one step of up to 20 iterations gets there, until the loss
        // changes by less than the tolerance.
        let p = startParameter()
        let optimizer = LBFGS([p], lineSearch: .strongWolfe)
        optimizer.step {
            optimizer.zeroGrad()
            Quadratic.standard.backward(p)
            let q = Quadratic.standard, t = p.value.doubles
            var loss = 0.0
            for i in 0..<3 { loss += 0.5 * q.a[i] * t[i] * t[i] + q.b[i] * t[i] }
            return loss
        }
        let expected = zip(Quadratic.standard.a, Quadratic.standard.b).map { -$1 / $0 }
        #expect(zip(p.value.doubles, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "\(p.value.doubles) after \(optimizer.iterations) iterations")
    }

    @Test func cubicInterpolationFindsTheMinimumOfACubic() {
        // f(x) = x³ − 3x has its local minimum at 1: f(0) = 0, f'(0) = −3, f(2) = 2, f'(2) = 9.
        let optimizer = LBFGS([startParameter()])
        #expect(abs(optimizer.cubicMinimum(0, 0, -3, 2, 2, 9) - 1) < 1e-12)
        #expect(abs(optimizer.cubicMinimum(2, 2, 9, 0, 0, -3) - 1) < 1e-12)
        // Clamped to the bounds given.
        #expect(optimizer.cubicMinimum(0, 0, -3, 2, 2, 9, bounds: (1.5, 3)) == 1.5)
    }

    @Test(.enabled(if: TorchOptimReference.isAvailable, TorchOptimReference.skipReason))
    func matchesTorchOnRosenbrock() throws {
        for lineSearch in [true, false] {
            let theirs = try TorchOptimReference.rows("""
                p = torch.tensor([-1.5, 2.0], requires_grad=True)
                opt = torch.optim.LBFGS([p], lr=\(lineSearch ? "1" : "0.02"), max_iter=8, history_size=5, line_search_fn=\(lineSearch ? "'strong_wolfe'" : "None"))
                def closure():
                    opt.zero_grad()
                    loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
                    loss.backward()
                    return loss
                out = []
                for _ in range(6):
                    opt.step(closure)
                    out.append([repr(float(v)) for v in p.detach()])
                st = opt.state[p]
                out.append([repr(float(st['n_iter'])), repr(float(st['func_evals']))])
                print(json.dumps(out))
                """)
            let (ours, optimizer) = run(calls: 6) {
                LBFGS($0, learningRate: lineSearch ? 1 : 0.02, maxIterations: 8, historySize: 5,
                      lineSearch: lineSearch ? .strongWolfe : nil)
            }
            expectClose(ours, Array(theirs.dropLast()), tolerance: 1e-9)
            #expect([Double(optimizer.iterations), Double(optimizer.evaluations)] == theirs.last!, "line search \(lineSearch)")
        }
    }
}
