import Testing
@testable import Training

/// The bar's output under a clock that advances one second per step.
@Suite struct ProgressBarTests {
    final class Recorder: @unchecked Sendable {
        var text: [String] = []
        var time = 0.0
    }

    func bar(total: Int, interactive: Bool, plainEvery: Int? = nil, _ recorder: Recorder) -> ProgressBar {
        ProgressBar(total: total, label: "train", plainEvery: plainEvery, interactive: interactive,
                    output: { recorder.text.append($0) }, clock: { recorder.time })
    }

    @Test func plainOutputPrintsALineEveryFewStepsWithRateAndETA() {
        let recorder = Recorder()
        let progress = bar(total: 10, interactive: false, recorder)
        for step in 1...10 {
            recorder.time = Double(step)
            progress.advance(metrics: ["loss": 0.5])
        }
        // Every fifth of the total, and at the end with the elapsed time instead of the ETA.
        #expect(recorder.text.count == 5)
        #expect(recorder.text[0] == "train ████···················· 2/10  1.0 steps/s  loss 0.5000  ETA 8.0s\n")
        #expect(recorder.text[4] == "train ████████████████████████ 10/10  1.0 steps/s  loss 0.5000  10.0s\n")
    }

    @Test func aTerminalGetsOneLineRewrittenAtMostTenTimesASecond() {
        let recorder = Recorder()
        let progress = bar(total: 100, interactive: true, recorder)
        for step in 1...100 {
            recorder.time = Double(step) / 64   // exact in binary, so the 0.1 s threshold falls between steps
            progress.advance()
        }
        // Steps 1, 8, 15, …, 99: each 7/64 s (the first interval over 0.1 s) after the last drawn, then the final one.
        #expect(recorder.text.count == 16)
        #expect(recorder.text.allSatisfy { $0.hasPrefix("\r") && $0.contains("\u{1B}[K") })
        #expect(recorder.text.dropLast().allSatisfy { !$0.hasSuffix("\n") } && recorder.text.last!.hasSuffix("\n"))
        #expect(recorder.text.last!.contains("100/100  64.0 steps/s"))
    }

    @Test func advancingSeveralStepsCrossesPlainBoundaries() {
        let recorder = Recorder()
        let progress = bar(total: 9, interactive: false, plainEvery: 4, recorder)
        progress.advance(3)
        progress.advance(3)   // crosses 4
        progress.advance(5)   // clamps to 9, the end
        #expect(recorder.text.count == 2 && progress.done == 9)
    }

    @Test func durationsReadAsSecondsMinutesOrHours() {
        #expect(ProgressBar.duration(12.34) == "12.3s")
        #expect(ProgressBar.duration(245) == "4m05s")
        #expect(ProgressBar.duration(7380) == "2h03m")
        #expect(ProgressBar.duration(.infinity) == "?")
    }
}
