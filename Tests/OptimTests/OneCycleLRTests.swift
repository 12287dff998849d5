import Foundation
import Testing
@testable import Optim

@Suite struct OneCycleLRTests {
    /// The rates before each of `steps` steps and after the last.
    func rates(_ make: (SGD) -> OneCycleLR, steps: Int) -> [Double] {
        let optimizer = SGD([startParameter()], learningRate: 0.123)
        let schedule = make(optimizer)
        var rates = [optimizer.learningRate]
        for _ in 0..<steps {
            schedule.step()
            rates.append(optimizer.learningRate)
        }
        return rates
    }

    @Test func risesToTheMaximumThenFallsToTheMinimum() {
        let r = rates({ OneCycleLR($0, maxLearningRate: 1, totalSteps: 11, percentStart: 0.3) }, steps: 10)
        // Phase ends at step 0.3·11 − 1 = 2.3 and 10: the peak lies between steps 2 and 3.
        #expect(abs(r[0] - 1.0 / 25) < 1e-15)
        #expect(abs(r[10] - 1.0 / 25 / 1e4) < 1e-15)
        let p = 2.0 / 2.3
        #expect(abs(r[2] - (1 + (1.0 / 25 - 1) * (1 + cos(Double.pi * p)) / 2)) < 1e-15)
        #expect(r[0] < r[1] && r[1] < r[2] && r[3] > r[4] && zip(r.dropFirst(3), r.dropFirst(4)).allSatisfy { $0 > $1 })
    }

    @Test func linearAnnealingIsAStraightLine() {
        let r = rates({ OneCycleLR($0, maxLearningRate: 2, totalSteps: 21, percentStart: 0.5, annealing: .linear,
                                   divFactor: 4, finalDivFactor: 2) }, steps: 20)
        // Up from 0.5 to 2 over steps 0…9.5, down to 0.25 over 9.5…20.
        #expect(abs(r[5] - (0.5 + 1.5 * 5 / 9.5)) < 1e-14)
        #expect(abs(r[15] - (2 + (0.25 - 2) * 5.5 / 10.5)) < 1e-14)
    }

    @Test(.enabled(if: TorchOptimReference.isAvailable, TorchOptimReference.skipReason))
    func matchesTorch() throws {
        let theirs = try TorchOptimReference.rows("""
            rows = []
            for kw in [dict(max_lr=0.1, total_steps=40), dict(max_lr=1.0, total_steps=25, pct_start=0.2, anneal_strategy='linear', div_factor=10, final_div_factor=100), dict(max_lr=0.5, total_steps=30, three_phase=True, pct_start=0.4)]:
                opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.123)
                s = torch.optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=False, **kw)
                lrs = [opt.param_groups[0]['lr']]
                for _ in range(kw['total_steps'] - 1):
                    opt.step(); s.step(); lrs.append(opt.param_groups[0]['lr'])
                rows.append([repr(float(v)) for v in lrs])
            print(json.dumps(rows))
            """)
        let ours = [
            rates({ OneCycleLR($0, maxLearningRate: 0.1, totalSteps: 40) }, steps: 39),
            rates({ OneCycleLR($0, maxLearningRate: 1, totalSteps: 25, percentStart: 0.2, annealing: .linear, divFactor: 10,
                               finalDivFactor: 100) }, steps: 24),
            rates({ OneCycleLR($0, maxLearningRate: 0.5, totalSteps: 30, percentStart: 0.4, threePhase: true) }, steps: 29),
        ]
        for (mine, torch) in zip(ours, theirs) { expectClose([mine], [torch], tolerance: 1e-13) }
    }

    @Test func steppingPastTheCycleTraps() async {
        await #expect(processExitsWith: .failure) {
            let schedule = OneCycleLR(SGD([startParameter()]), maxLearningRate: 1, totalSteps: 2)
            for _ in 0..<3 { schedule.step() }
        }
    }
}
