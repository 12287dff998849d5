import Testing
@testable import Optim

/// Decaying optimiser state must not linger in subnormal numbers (slow arithmetic); it is flushed to 0.
@Suite struct SubnormalStateTests {
    /// One step with gradient 1, then `steps` with gradient exactly 0: the decaying buffers pass through
    /// the subnormal range (0.1 · 0.9⁸⁷⁰ ≈ 1.6e-41 for Adam's first moment in Float).
    private func decayedState(_ makeOptimizer: ([Variable]) -> Optimizer, steps: Int) -> [String: Tensor] {
        let parameter = Variable(Tensor.ones([4]), requiresGrad: true)
        let optimizer = makeOptimizer([parameter])
        parameter.grad = Tensor.ones([4])
        optimizer.step()
        for _ in 0..<steps {
            parameter.grad = Tensor.zeros([4])
            optimizer.step()
        }
        return optimizer.stateDict()
    }

    private func expectNoSubnormals(_ state: [String: Tensor], sourceLocation: SourceLocation = #_sourceLocation) {
        for (key, tensor) in state where key.hasPrefix("state.") && tensor.dtype == .float32 {
            for value in tensor.floats {
                #expect(!value.isSubnormal, "\(key) holds the subnormal \(value)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func adamMomentsAreFlushed() {
        let state = decayedState({ Adam($0, learningRate: 1e-3) }, steps: 870)
        expectNoSubnormals(state)
        #expect(state["state.0.exp_avg"]!.floats == [0, 0, 0, 0])
    }

    @Test func sgdMomentumIsFlushed() {
        let state = decayedState({ SGD($0, learningRate: 1e-3, momentum: 0.9) }, steps: 860)
        expectNoSubnormals(state)
    }

    @Test func rmspropAveragesAreFlushed() {
        let state = decayedState({ RMSProp($0, learningRate: 1e-3, momentum: 0.9, centered: true) }, steps: 9000)
        expectNoSubnormals(state)
    }
}
