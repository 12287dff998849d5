import Foundation
import Testing
@testable import Optim

@Suite struct AdadeltaTests {
    /// Adadelta's update written out in plain Double arithmetic.
    func reference(steps: Int, lr: Double, rho: Double, eps: Double, weightDecay: Double) -> [[Double]] {
        var theta = Quadratic.start
        var v = [Double](repeating: 0, count: theta.count), u = v
        return (0..<steps).map { _ in
            let g = Quadratic.standard.gradient(theta)
            for i in theta.indices {
                let gi = g[i] + weightDecay * theta[i]
                v[i] = rho * v[i] + (1 - rho) * gi * gi
                let delta = (u[i] + eps).squareRoot() / (v[i] + eps).squareRoot() * gi
                u[i] = rho * u[i] + (1 - rho) * delta * delta
                theta[i] -= lr * delta
            }
            return theta
        }
    }

    @Test func followsTheUpdateRuleInBothDtypes() {
        let p = startParameter()
        expectClose(trajectory(Adadelta([p], learningRate: 0.5, rho: 0.8, weightDecay: 0.1), p, steps: 30),
                    reference(steps: 30, lr: 0.5, rho: 0.8, eps: 1e-6, weightDecay: 0.1))
        let f = startParameter(dtype: .float32)
        expectClose(trajectory(Adadelta([f]), f, steps: 30), reference(steps: 30, lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0),
                    tolerance: 1e-5)
    }

    @Test func stateDictUsesPyTorchsNames() {
        let p = startParameter()
        let optimizer = Adadelta([p])
        _ = trajectory(optimizer, p, steps: 1)
        let keys = Set(optimizer.stateDict().keys)
        #expect(keys.isSuperset(of: ["state.0.square_avg", "state.0.acc_delta", "state.0.step", "param_groups.0.rho",
                                     "param_groups.0.lr", "param_groups.0.eps", "param_groups.0.weight_decay"]))
    }

    @Test(.enabled(if: TorchOptimReference.isAvailable, TorchOptimReference.skipReason))
    func matchesTorch() throws {
        let theirs = try TorchOptimReference.rows("""
            a = torch.tensor([1.0, 2.5, 0.4]); b = torch.tensor([-0.3, 0.8, 1.2])
            p = torch.tensor([0.7, -1.3, 2.1], requires_grad=True)
            opt = torch.optim.Adadelta([p], lr=0.5, rho=0.8, weight_decay=0.1)
            out = []
            for _ in range(30):
                opt.zero_grad(); ((0.5 * a * p * p).sum() + (b * p).sum()).backward(); opt.step()
                out.append([repr(float(v)) for v in p.detach()])
            print(json.dumps(out))
            """)
        let p = startParameter()
        expectClose(trajectory(Adadelta([p], learningRate: 0.5, rho: 0.8, weightDecay: 0.1), p, steps: 30), theirs, tolerance: 1e-12)
    }
}
