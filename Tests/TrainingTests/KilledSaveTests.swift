import Foundation
import Testing
@testable import Training
import NN
import Optim

// A process that saves checkpoint sets in a loop is killed with SIGKILL at random instants, again and again; after
// every kill the newest complete set must load and hold exactly what was saved at its step, and no set that was
// complete before the kill may be lost. The child is this test binary, started again to run only
// `childSavesUntilKilled`, which does nothing unless the environment names its directory.

private let childDirectoryVariable = "TRAINING_CHECKPOINT_CHILD_DIR"

/// The state saved at `step`: weights, optimizer moments and a generator all drawn from the step number, so the
/// parent can recompute what any set must hold.
private func stateAt(step: Int) -> (state: TrainingState, model: Linear, optimizer: SGD) {
    let generator = RandomGenerator(seed: UInt64(step))
    let model = Linear(64, 64, generator: generator)
    let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
    for p in model.parameters() { p.grad = Tensor.randn(p.shape, generator: generator) }
    optimizer.step()   // momentum buffers that depend on the step
    return (TrainingState(model: model, optimizer: optimizer, generators: ["data": generator]), model, optimizer)
}

@Suite struct KilledSaveTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childDirectoryVariable] != nil, "runs only as the child of killingASavingProcess"))
    func childSavesUntilKilled() throws {
        let directory = try CheckpointDirectory(URL(fileURLWithPath: ProcessInfo.processInfo.environment[childDirectoryVariable]!), keepLast: 3)
        var step = (directory.latestComplete()?.step ?? 0) + 1   // --resume
        while true {
            try directory.save(stateAt(step: step).state, step: step)
            step += 1
        }
    }

    @Test func killingASavingProcessNeverLosesACompleteSet() throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let url = temporaryDirectory("killed")
        let random = RandomGenerator(seed: 2024)
        var newest = 0
        for kill in 0..<20 {
            let child = Process()
            child.executableURL = executable
            child.arguments = ["--testing-library", "swift-testing", "--filter", "childSavesUntilKilled"]
            child.environment = ProcessInfo.processInfo.environment.merging([childDirectoryVariable: url.path]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Let it start and save a few sets, then kill it at a random instant.
            let startup = Date()
            while child.isRunning && CheckpointDirectory.latestComplete(in: url).map({ $0.step <= newest }) ?? true
                    && Date().timeIntervalSince(startup) < 60 {
                usleep(2_000)
            }
            usleep(UInt32(random.nextBelow(40_000)))
            Foundation.kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "kill \(kill): the child stopped by itself (status \(child.terminationStatus))")

            let latest = try #require(CheckpointDirectory.latestComplete(in: url), "kill \(kill): no complete set")
            #expect(latest.step > newest, "kill \(kill): the newest complete set went from step \(newest) back to \(latest.step)")
            newest = latest.step
            let directory = try CheckpointDirectory(url, keepLast: 3)
            let expected = stateAt(step: latest.step)
            let restored = stateAt(step: 0)
            restored.state.generators["data"]!.reseed(12345)
            try directory.restore(latest, into: restored.state)
            #expect(restored.model.stateDict() == expected.model.stateDict(), "kill \(kill): step \(latest.step)")
            #expect(restored.optimizer.stateDict() == expected.optimizer.stateDict(), "kill \(kill): step \(latest.step)")
            #expect(restored.state.generators["data"]!.stateWords == expected.state.generators["data"]!.stateWords)
        }
    }
}
