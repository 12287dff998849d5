import Data
import Foundation
import Testing

/// Fashion-MNIST-shaped IDX files of `count` images per split: class k is a bright band at rows 2k…2k+2.
private func writeBandData(to directory: URL, count: Int) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for prefix in ["train", "t10k"] {
        var pixels = [UInt8](repeating: 20, count: count * 28 * 28)
        for i in 0..<count { for r in (2 * (i % 10))..<(2 * (i % 10) + 3) { for c in 0..<28 { pixels[i * 784 + r * 28 + c] = 230 } } }
        try IDXFile(dimensions: [count, 28, 28], bytes: pixels).save(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
        try IDXFile(dimensions: [count], bytes: (0..<count).map { UInt8($0 % 10) })
            .save(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
}

/// example-compress end to end on tiny band images: every step runs and the table has its rows.
@Suite struct CompressExampleTests {
    @Test func tinyRunPrintsEveryRow() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("example-compress-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        try writeBandData(to: output.appendingPathComponent("data"), count: 128)
        let run = try runExampleBinary("example-compress", [
            "--data-dir", output.appendingPathComponent("data").path, "--test-limit", "64", "--student-hidden", "8", "--teacher-epochs", "1", "--student-epochs", "1",
            "--finetune-epochs", "1", "--latency-repeats", "1", "--no-torch", "--output-dir", output.path,
        ])
        #expect(run.status == 0, "\(run.errors)")
        for row in ["teacher CNN (Float)", "student MLP alone", "student MLP distilled", "teacher pruned 90% (Float)",
                    "teacher 16/32 channels (Float)", "teacher int8 (dynamic Linear)", "teacher int8 (static conv + Linear)",
                    "student distilled int8 (dynamic)", "distillation:", "channel pruning: 2.00× smaller",
                    "int8 (dynamic Linear):", "int8 (static conv + Linear):"] {
            #expect(run.output.contains(row), "no \"\(row)\" in:\n\(run.output)")
        }
        #expect(run.output.contains("pruned weights: 90.0%"))
        // The int8 file holds I8 weights: about a quarter of the Float teacher's.
        let size = { (name: String) in (try? FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(name).path))?[.size] as? Int ?? 0 }
        #expect(size("teacher-int8.safetensors") * 3 < size("teacher.safetensors"))
        #expect(size("teacher-int8-static.safetensors") * 3 < size("teacher.safetensors"))
    }
}
