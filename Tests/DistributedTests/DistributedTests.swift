import Foundation
import MPITestSupport
import Testing
import Training

/// Two-rank runs of `distributed-check` under `mpirun`: collectives, data-parallel training against one process, and
/// failures that must end the job rather than hang it.
@Suite(.serialized, .enabled(if: mpirunPath != nil, mpirunMissing))
struct DistributedTests {
    @Test func collectivesGiveKnownValues() throws {
        let run = try mpirunCheck(["collectives"])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("OK collectives on 2 ranks"))
    }

    /// With the default bucket (one bucket for this model) and with 1 KB buckets (several, launched during backward).
    @Test(arguments: [25 << 20, 1024])
    func twoRanksMatchOneProcessWithTheGlobalBatch(bucketBytes: Int) throws {
        let run = try mpirunCheck(["equivalence", "\(bucketBytes)"])
        #expect(run.status == 0, "\(run.output)\(run.errors)")
        #expect(run.output.contains("OK equivalence"))
        // Only rank 0 prints.
        #expect(run.output.components(separatedBy: "OK equivalence").count == 2, "\(run.output)")
        if bucketBytes == 1024 { #expect(run.output.contains("2 buckets"), "\(run.output)") }
    }

    @Test func replicaCheckFindsAParameterThatDiffers() throws {
        let run = try mpirunCheck(["replicas"])
        #expect(run.status == 0, "\(run.output)\(run.errors)")
        #expect(run.output.contains("replicas differ in 2.weight as expected"), "\(run.output)")
    }

    /// Rank 1 throws, dies from SIGKILL, exits with status 3, or stalls outside the collectives at step 3; rank 0 keeps
    /// training. The job ends with a non-zero status well within the test's limit, and the error names the cause. Only
    /// the stall is left to the collective timeout (3 s); the others must end the job without it.
    @Test(arguments: ["throw", "crash", "exit", "stall"])
    func aFailingRankEndsTheJob(failure: String) throws {
        let run = try mpirunCheck([failure], timeout: 60,
                                  environment: ["AUTOGRAD_COLLECTIVE_TIMEOUT": failure == "stall" ? "3" : "600"])
        #expect(!run.timedOut, "the job hung for \(run.seconds) s")
        #expect(run.status != 0)
        #expect(run.seconds < 30, "the job took \(run.seconds) s to end")
        switch failure {
        case "throw": #expect(run.errors.contains("rank 1: error: rank 1 fails on purpose"), "\(run.errors)")
        case "stall": #expect(run.errors.contains("did not complete within 3.0 s"), "\(run.errors)")
        default: break
        }
    }

    /// Rank 0 saves a checkpoint after every step while rank 1 throws: the job ends with an error, and every set left
    /// in the directory is complete (the newest one too), never half-written.
    @Test func checkpointsSurviveAnotherRanksFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-checkpoint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try mpirunCheck(["checkpoint", directory.path], timeout: 120)
        #expect(run.status != 0)
        #expect(run.errors.contains("rank 1: error: rank 1 fails on purpose while rank 0 saves"), "\(run.errors)")
        let sets = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("step-") }
        #expect(!sets.isEmpty, "rank 0 saved no set before the job ended")
        for name in sets {
            #expect(throws: Never.self, "\(name) is incomplete") {
                try CheckpointSet(verifying: directory.appendingPathComponent(name))
            }
        }
        #expect(CheckpointDirectory.latestComplete(in: directory)?.step == sets.compactMap { Int($0.dropFirst(5)) }.max())
    }
}
