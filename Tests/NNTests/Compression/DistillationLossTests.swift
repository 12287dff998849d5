import Foundation
import Testing
@testable import NN

@Suite struct DistillationLossTests {
    let labels = [2, 0, 4]

    /// The loss from its definition, in Double with plain loops: α·T²·mean_b KL(p_t ‖ p_s) + (1 − α)·mean_b CE.
    func reference(_ s: [Double], _ t: [Double], classes: Int, temperature T: Double, alpha: Double) -> Double {
        func softmax(_ row: ArraySlice<Double>, _ T: Double) -> [Double] {
            let top = row.max()!
            let e = row.map { Foundation.exp(($0 - top) / T) }
            return e.map { $0 / e.reduce(0, +) }
        }
        var soft = 0.0, hard = 0.0
        for (b, label) in labels.enumerated() {
            let rs = s[b * classes..<(b + 1) * classes], rt = t[b * classes..<(b + 1) * classes]
            let ps = softmax(rs, T), pt = softmax(rt, T)
            soft += zip(pt, ps).reduce(0) { $0 + $1.0 * Foundation.log($1.0 / $1.1) }
            hard -= Foundation.log(softmax(rs, 1)[label])
        }
        let batch = Double(labels.count)
        return alpha * T * T * soft / batch + (1 - alpha) * hard / batch
    }

    @Test func valueMatchesTheDefinition() {
        let g = RandomGenerator(seed: 3)
        let s = Tensor.randn([3, 5], dtype: .float64, generator: g), t = Tensor.randn([3, 5], dtype: .float64, generator: g) * 3
        for (T, alpha) in [(1.0, 0.5), (4.0, 0.9), (20.0, 1.0), (2.0, 0.0)] {
            let ours = distillationLoss(Variable(s), Variable(t), labels, temperature: T, alpha: alpha).value.item
            let expected = reference(s.doubles, t.doubles, classes: 5, temperature: T, alpha: alpha)
            #expect(Swift.abs(ours - expected) <= 1e-12 * Swift.max(1, Swift.abs(expected)), "T \(T), α \(alpha): \(ours) vs \(expected)")
        }
    }

    /// First and second order, in the student's and the teacher's logits.
    @Test func gradientsMatchFiniteDifferences() throws {
        let g = RandomGenerator(seed: 5)
        let s = Tensor.randn([3, 5], dtype: .float64, generator: g), t = Tensor.randn([3, 5], dtype: .float64, generator: g)
        for (T, alpha) in [(1.0, 0.5), (4.0, 0.9)] {
            try gradcheck({ distillationLoss($0[0], $0[1], labels, temperature: T, alpha: alpha) }, inputs: [s, t])
            try gradgradcheck({ distillationLoss($0[0], $0[1], labels, temperature: T, alpha: alpha) }, inputs: [s, t])
        }
    }

    /// At a high temperature the soft term's gradient tends to (s − t)/(B·C) times α (Hinton et al., §2.1, with
    /// zero-mean logits), which is what the T² factor keeps of the same size as T changes.
    @Test func highTemperatureGradientIsTheLogitDifference() {
        let g = RandomGenerator(seed: 9)
        var s = Tensor.randn([3, 5], dtype: .float64, generator: g), t = Tensor.randn([3, 5], dtype: .float64, generator: g)
        s = s - s.mean(axes: [1], keepDims: true)
        t = t - t.mean(axes: [1], keepDims: true)
        let student = Variable(s, requiresGrad: true)
        distillationLoss(student, Variable(t), labels, temperature: 10_000, alpha: 1).backward()
        let expected = ((s - t) * (1.0 / 15)).doubles
        let largest = expected.map(Swift.abs).max()!
        for (a, b) in zip(student.grad!.doubles, expected) { #expect(Swift.abs(a - b) <= 1e-3 * largest) }
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, TorchModuleReference.skipReason))
    func matchesPyTorch() throws {
        let g = RandomGenerator(seed: 13)
        let s = Tensor.randn([3, 5], dtype: .float64, generator: g), t = Tensor.randn([3, 5], dtype: .float64, generator: g) * 2
        let y = Tensor(labels.map(Double.init))
        let (T, alpha) = (3.0, 0.7)
        let expression = """
        \(alpha) * \(T * T) * torch.nn.functional.kl_div(torch.log_softmax(x[0] / \(T), 1), torch.log_softmax(x[1] / \(T), 1), \
        reduction='batchmean', log_target=True) + \(1 - alpha) * torch.nn.functional.cross_entropy(x[0], x[2].long())
        """
        let theirs = try #require(try TorchModuleReference.function(expression, [s, t, y], seed: Tensor(1.0)))
        let xs = [s, t].map { Variable($0, requiresGrad: true) }
        let loss = distillationLoss(xs[0], xs[1], labels, temperature: T, alpha: alpha)
        loss.backward()
        #expect(Swift.abs(loss.value.item - theirs.output.item) <= 1e-12)
        for (i, x) in xs.enumerated() {
            for (a, b) in zip(x.grad!.doubles, theirs.gradients[i].doubles) { #expect(Swift.abs(a - b) <= 1e-12) }
        }
    }

    @Test func badArgumentsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = distillationLoss(Variable(Tensor.zeros([2, 3])), Variable(Tensor.zeros([2, 4])), [0, 1])
        }
        await #expect(processExitsWith: .failure) {
            _ = distillationLoss(Variable(Tensor.zeros([2, 3])), Variable(Tensor.zeros([2, 3])), [0, 1], temperature: 0)
        }
    }
}
