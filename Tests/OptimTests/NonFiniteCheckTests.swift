import Testing
@testable import Optim

@Suite struct NonFiniteCheckTests {
    @Test func finiteLossesPass() throws {
        #expect(try NonFiniteCheck.loss(Variable(Tensor(2.5)), step: 1) == 2.5)
        try NonFiniteCheck.loss(-1e30, step: 1)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteLossThrowsWithStepAndValue(_ bad: Double) {
        for dtype in [DType.float32, .float64] {
            let loss = Variable(Tensor(shape: [], scalars: [bad], dtype: dtype))
            #expect {
                try NonFiniteCheck.loss(loss, step: 7, name: "generator")
            } throws: { error in
                guard case let .nonFiniteLoss(step, name, value, _) = error as? NonFiniteError else { return false }
                let text = "\(error)"
                return step == 7 && name == "generator" && (value == bad || (value.isNaN && bad.isNaN))
                    && text.contains("step 7") && text.contains("generator") && text.contains("\(bad)")
            }
        }
        #expect(throws: NonFiniteError.self) { try NonFiniteCheck.loss(bad, step: 1) }
    }

    @Test func finiteGradientsPassAndGiveTheGlobalNorm() throws {
        let a = Variable(Tensor([3.0]), requiresGrad: true), b = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
        let frozen = Variable(Tensor([1.0]), requiresGrad: true)
        a.grad = Tensor([3.0])
        b.grad = Tensor(shape: [2], scalars: [0.0, 4.0], dtype: .float32)
        #expect(try NonFiniteCheck.gradients([(name: "a", variable: a), (name: "b", variable: b),
                                              (name: "frozen", variable: frozen)], step: 1) == 5)
        #expect(try NonFiniteCheck.gradients([a, b, frozen], step: 1) == 5)
        // Huge but finite Double gradients overflow the norm, not the check.
        a.grad = Tensor([1e200])
        #expect(try NonFiniteCheck.gradients([a], step: 1) == .infinity)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteGradientNamesTheParameterAndElement(_ bad: Double) {
        for dtype in [DType.float32, .float64] {
            let a = Variable(Tensor([1.0]), requiresGrad: true), b = Variable(Tensor([1.0, 2.0, 3.0]), requiresGrad: true)
            a.grad = Tensor(shape: [1], scalars: [1.0], dtype: dtype)
            b.grad = Tensor(shape: [3], scalars: [0.5, bad, bad], dtype: dtype)
            #expect {
                try NonFiniteCheck.gradients([(name: "fc.weight", variable: a), (name: "fc.bias", variable: b)], step: 12)
            } throws: { error in
                guard case let .nonFiniteGradient(step, parameter, index, _, _) = error as? NonFiniteError else { return false }
                let text = "\(error)"
                return step == 12 && parameter == "fc.bias" && index == 1
                    && text.contains("step 12") && text.contains("fc.bias") && text.contains("element 1")
            }
            #expect {
                try NonFiniteCheck.gradients([a, b], step: 3)
            } throws: { error in
                guard case let .nonFiniteGradient(_, parameter, _, _, _) = error as? NonFiniteError else { return false }
                return parameter == "1"
            }
        }
    }

    @Test func anomalyRecordingNamesTheOpThatFirstProducedTheValue() {
        let x = Variable(Tensor([1.0, -2.0, 3.0]), requiresGrad: true)
        Graph.withAnomalyRecording {
            let loss = (x.log() * 2).sum()          // Log makes the NaN, Mul and Sum only pass it on
            #expect(Graph.firstAnomaly?.contains("Log") == true, "\(Graph.firstAnomaly ?? "nil")")
            #expect {
                try NonFiniteCheck.loss(loss, step: 4)
            } throws: { error in
                guard case let .nonFiniteLoss(_, _, _, origin) = error as? NonFiniteError else { return false }
                let text = "\(error)"
                return origin?.contains("op Log") == true && text.contains("op Log") && text.contains("index 1")
                    && text.contains("step 4")
            }
        }
        // Recording is off again: the loop still stops, without an origin, and nothing traps.
        #expect {
            try NonFiniteCheck.loss(x.log().sum(), step: 5)
        } throws: { error in
            guard case let .nonFiniteLoss(_, _, _, origin) = error as? NonFiniteError else { return false }
            return origin == nil && !"\(error)".contains("first non-finite")
        }
        // A new recording starts clean.
        Graph.withAnomalyRecording { #expect(Graph.firstAnomaly == nil) }
    }
}
