import Data
import Foundation
import Testing

/// example-compress end to end on a few hundred Fashion-MNIST images: every step runs and the table has its rows.
@Suite struct CompressExampleTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-labels-idx1-ubyte.gz"),
                   "Fashion-MNIST is not installed at \(FashionMNIST.defaultDirectory)"))
    func tinyRunPrintsEveryRow() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("example-compress-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try runExampleBinary("example-compress", [
            "--train-limit", "256", "--test-limit", "128", "--teacher-epochs", "1", "--student-epochs", "1",
            "--finetune-epochs", "1", "--latency-repeats", "2", "--no-torch", "--output-dir", output.path,
        ])
        #expect(run.status == 0, "\(run.errors)")
        for row in ["teacher CNN (Float)", "student MLP alone", "student MLP distilled", "teacher pruned 90% (Float)",
                    "teacher int8 (dynamic Linear)", "student distilled int8 (dynamic)", "distillation:", "int8:"] {
            #expect(run.output.contains(row), "no \"\(row)\" in:\n\(run.output)")
        }
        #expect(run.output.contains("pruned weights: 90.0%"))
        // The int8 file holds I8 weights: about a quarter of the Float teacher's.
        let size = { (name: String) in (try? FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(name).path))?[.size] as? Int ?? 0 }
        #expect(size("teacher-int8.safetensors") * 3 < size("teacher.safetensors"))
    }
}
