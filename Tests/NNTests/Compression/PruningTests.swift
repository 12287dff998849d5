import Foundation
import Testing
@testable import NN

@Suite struct PruningTests {
    /// A mask stays applied through forward passes, gradients and any change of the trained values, and the
    /// state dict has PyTorch's names while pruned and after `removePruning`.
    @Test func maskStaysAppliedAndNamesFollowPyTorch() throws {
        let fc = Linear(3, 2, dtype: .float64, generator: RandomGenerator(seed: 1))
        let original = fc.weight
        let mask = Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 1, 1] as [Double])
        fc.prune("weight", mask: mask)
        #expect(fc.isPruned("weight"))
        #expect(fc.namedParameters().map(\.name) == ["weight_orig", "bias"])
        #expect(Set(fc.stateDict().keys) == ["weight_orig", "weight_mask", "bias"])
        #expect(fc.parameters()[0] === original, "an optimiser made before pruning keeps training the same variable")

        let x = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 2))
        let expected = Tensor.matmul(x, original.value * mask, transposeB: true) + fc.bias!.value
        #expect(isClose(fc(Variable(x)).value, expected, tolerance: 1e-12))
        // The masked entries get no gradient.
        fc(Variable(x)).sum().backward()
        #expect(zip(original.grad!.doubles, mask.doubles).allSatisfy { $1 != 0 || $0 == 0 })
        // A step that moves every trained value (momentum, weight decay) leaves the effective weight masked.
        original.value = original.value + 5
        #expect(zip(fc.weight.value.doubles, mask.doubles).allSatisfy { $1 != 0 || $0 == 0 })

        // A second mask multiplies the first.
        fc.prune("weight", mask: Tensor(shape: [2, 3], scalars: [0, 1, 1, 1, 1, 1] as [Double]))
        #expect(fc.pruningMask("weight")!.doubles == [0, 0, 1, 0, 1, 1])

        fc.removePruning("weight")
        #expect(!fc.isPruned("weight") && fc.weight === original)
        #expect(Set(fc.stateDict().keys) == ["weight", "bias"])
        #expect(original.value.doubles.enumerated().allSatisfy { [0, 1, 3].contains($0.offset) == ($0.element == 0) })
    }

    /// A pruned checkpoint loads into a model pruned the same way (as with PyTorch, prune first, then load).
    @Test func prunedCheckpointsRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let model = Sequential(Linear(6, 4, generator: RandomGenerator(seed: 3)), ReLU(), Linear(4, 2))
        MagnitudePruning.prune(model[0], "weight", amount: 0.5)
        try model.save(to: url)
        let copy = Sequential(Linear(6, 4), ReLU(), Linear(4, 2))
        #expect(throws: LoadStateDictError.self) { try copy.load(from: url) }
        copy[0].prune("weight", mask: Tensor.ones([4, 6]))
        try copy.load(from: url)
        let x = Variable(Tensor.randn([3, 6], generator: RandomGenerator(seed: 4)))
        #expect(copy(x).value.floats == model(x).value.floats)
        #expect(copy[0].pruningMask("weight")!.floats.filter { $0 == 0 }.count == 12)
    }

    @Test func magnitudePruningMasksTheSmallestRemainingEntries() {
        let fc = Linear(4, 1, bias: false, dtype: .float64)
        fc.weight.value = Tensor(shape: [1, 4], scalars: [0.3, -0.1, 2, -0.5] as [Double])
        MagnitudePruning.prune(fc, "weight", amount: 0.5)
        #expect(fc.pruningMask("weight")!.doubles == [0, 0, 1, 1])
        // Iterative: the amount is a fraction of what remains (PyTorch's rule): half of 2 is 1 more.
        MagnitudePruning.prune(fc, "weight", amount: 0.5)
        #expect(fc.pruningMask("weight")!.doubles == [0, 0, 1, 0])
    }

    /// Global pruning ranks all targets together: the layer of small weights loses more.
    @Test func globalPruningRanksAcrossLayers() {
        let a = Linear(4, 1, bias: false, dtype: .float64), b = Linear(4, 1, bias: false, dtype: .float64)
        a.weight.value = Tensor(shape: [1, 4], scalars: [0.1, 0.2, 0.3, 5] as [Double])
        b.weight.value = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4] as [Double])
        MagnitudePruning.prune([(a, "weight"), (b, "weight")], amount: 0.5)
        #expect(a.pruningMask("weight")!.doubles == [0, 0, 0, 1])
        #expect(b.pruningMask("weight")!.doubles == [0, 1, 1, 1])
        MagnitudePruning.prune([(a, "weight"), (b, "weight")], toSparsity: 0.75)
        #expect(MagnitudePruning.sparsity([(a, "weight"), (b, "weight")]) == 0.75)
        #expect(b.pruningMask("weight")!.doubles == [0, 0, 0, 1])
    }

    @Test func polynomialScheduleFollowsZhuAndGupta() {
        let schedule = PolynomialSparsitySchedule(initial: 0, final: 0.9, begin: 10, end: 110)
        #expect(schedule.sparsity(at: 0) == 0 && schedule.sparsity(at: 10) == 0)
        #expect(Swift.abs(schedule.sparsity(at: 60) - 0.9 * (1 - 0.125)) < 1e-12)
        #expect(schedule.sparsity(at: 110) == 0.9 && schedule.sparsity(at: 500) == 0.9)
    }

    /// The trained values' gradient is the mask times the gradient of an unpruned layer holding the masked values.
    @Test func gradientIsTheMaskedGradientOfTheMaskedLayer() {
        let g = RandomGenerator(seed: 8)
        let pruned = Linear(3, 2, dtype: .float64, generator: g)
        let plain = Linear(3, 2, dtype: .float64)
        let mask = Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 1, 1] as [Double])
        plain.weight.value = pruned.weight.value * mask
        plain.bias!.value = pruned.bias!.value
        pruned.prune("weight", mask: mask)
        let x = Variable(Tensor.randn([4, 3], dtype: .float64, generator: g))
        pruned(x).tanh().sum().backward()
        plain(x).tanh().sum().backward()
        #expect(isClose(pruned.parameters()[0].grad!, plain.weight.grad! * mask, tolerance: 1e-14))
    }

    @Test func misuseTraps() async {
        await #expect(processExitsWith: .failure) { Linear(2, 2).prune("weight", mask: Tensor.ones([3, 2])) }
        await #expect(processExitsWith: .failure) { Linear(2, 2).prune("scale", mask: Tensor.ones([2, 2])) }
        await #expect(processExitsWith: .failure) { Linear(2, 2).removePruning("weight") }
        await #expect(processExitsWith: .failure) {
            let fc = Linear(2, 2)
            fc.prune("weight", mask: Tensor.ones([2, 2]))
            fc.weight = Variable(Tensor.ones([2, 2]))
        }
    }
}
