import Testing
@testable import AutoGrad

// Programming errors in use of the engine must stop the program with a message that says what
// went wrong. Each case runs in a child process (an exit test) and its stderr is checked.
// Exit-test bodies cannot capture values, so each builds its own inputs.

/// The child's standard error as text.
private func stderrText(_ result: ExitTest.Result?) -> String {
    result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
}

/// Expects the text to contain every fragment, printing it when one is missing.
private func expectMentions(_ text: String, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for fragment in fragments {
        #expect(text.contains(fragment), "stderr lacks \"\(fragment)\":\n\(text)", sourceLocation: sourceLocation)
    }
}

@Suite struct TrapTests {
    @Test func secondBackwardWithoutRetainGraphTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
            let y = (x * x).sum()
            y.backward()
            y.backward()
        }
        expectMentions(stderrText(result), ["freed by an earlier backward", "retainGraph: true", "Sum"])
    }

    @Test func backwardIntoAGraphFreedByAnotherOutputTraps() async {
        // z's record was consumed by y1's backward; a second output built on z cannot reach x.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
            let z = x.exp()
            z.sum().backward()
            (z * 3).sum().backward()
        }
        expectMentions(stderrText(result), ["freed by an earlier backward", "Exp"])
    }

    @Test func backwardFromANonScalarWithoutASeedTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor.ones([2, 3], dtype: .float64), requiresGrad: true)
            (x * 2).backward()
        }
        expectMentions(stderrText(result), ["not a scalar", "[2, 3]", "seed"])
    }

    @Test func seedOfTheWrongShapeTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor.ones([2, 3], dtype: .float64), requiresGrad: true)
            (x * 2).backward(seed: Tensor.ones([3, 2], dtype: .float64))
        }
        expectMentions(stderrText(result), ["seed of shape [3, 2]", "output of shape [2, 3]"])
    }

    @Test func backwardFromAnOutputThatNeedsNoGradientTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor([1.0, 2.0]))
            (x * x).sum().backward()
        }
        expectMentions(stderrText(result), ["does not require a gradient"])
    }

    @Test func binaryOpOnIncompatibleShapesTrapsNamingOpAndShapes() async {
        let add = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Variable(Tensor.ones([2, 3], dtype: .float64), requiresGrad: true)
            let b = Variable(Tensor.ones([4], dtype: .float64), requiresGrad: true)
            _ = a + b
        }
        expectMentions(stderrText(add), ["add", "[2, 3]", "[4]", "cannot be broadcast"])

        let multiply = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Variable(Tensor.ones([3, 1, 5], dtype: .float64), requiresGrad: true)
            let b = Variable(Tensor.ones([2, 4], dtype: .float64))
            _ = a * b
        }
        expectMentions(stderrText(multiply), ["multiply", "[3, 1, 5]", "[2, 4]"])
    }

    @Test func anomalyDetectionNamesTheForwardOp() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Graph.withAnomalyDetection {
                let x = Variable(Tensor([1.0, -2.0]), requiresGrad: true)
                _ = x.log()
            }
        }
        expectMentions(stderrText(result), ["anomaly detection", "Log", "nan", "index 1"])
    }

    @Test func anomalyDetectionNamesTheBackwardOp() async {
        // √x is finite at 0 but its gradient 1/(2√x) is not.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Graph.withAnomalyDetection {
                let x = Variable(Tensor([4.0, 0.0]), requiresGrad: true)
                x.sqrt().sum().backward()
            }
        }
        expectMentions(stderrText(result), ["anomaly detection", "backward of Sqrt", "inf"])
    }

    @Test func withoutAnomalyDetectionNaNsPassSilently() {
        // The check is opt-in: outside the scope the same computation runs to the end.
        let x = Variable(Tensor([1.0, -2.0]), requiresGrad: true)
        let y = x.log()
        #expect(y.value.doubles[1].isNaN)
        Graph.withAnomalyDetection { }
        #expect(x.log().value.doubles[1].isNaN)
    }
}

/// Checks keep their message in optimised builds: a trap goes through the package's `precondition`, whose
/// `fatalError` prints "Fatal error: <message>" in every configuration, not the standard library's, which prints
/// "Precondition failed: <message>" in debug builds and drops the message in release ones.
@Suite struct ReleaseMessageTests {
    @Test func aShapeTrapGoesThroughTheMessageKeepingCheck() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }
        let text = stderrText(result)
        expectMentions(text, ["Fatal error: matmul", "[2, 3]", "[4, 5]"])
        #expect(!text.contains("Precondition failed"), "\(text)")
    }
}
