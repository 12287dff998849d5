import Foundation
import NN

/// One row of the comparison table.
struct ReportRow: Codable {
    var model: String
    /// Nonzero parameters (weights and biases; int8 weights count as parameters too) and all of them.
    var nonzero: Int
    var parameters: Int
    /// The size of the model's safetensors file.
    var bytes: Int
    var accuracy: Double
    /// Median milliseconds per forward pass of a batch of 1 and of 64 images, on one thread.
    var latency1: Double
    var latency64: Double

    static let header = [pad("model", 36), pad("nonzero", 10, right: true), pad("params", 10, right: true),
                         pad("size KB", 9, right: true), pad("test acc", 9, right: true), pad("ms @1", 9, right: true),
                         pad("ms @64", 9, right: true)].joined(separator: " ")

    var line: String {
        Self.pad(model, 36) + String(format: " %10d %10d %9.1f %8.2f%% %9.3f %9.3f", nonzero, parameters, Double(bytes) / 1024,
                                accuracy * 100, latency1, latency64)
    }

    /// `text` padded with spaces to `width` characters (Foundation's `%-34@` does not pad on Linux).
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}

/// The nonzero and total counts of a model's state: every entry of its state dict except masks, scales and zero
/// points, plus quantised layers' weights.
func parameterCounts(_ model: Module) -> (nonzero: Int, total: Int) {
    var nonzero = 0, total = 0
    for (name, value) in model.quantizedStateDict()
    where !name.hasSuffix("_mask") && !name.hasSuffix("_scale") && !name.hasSuffix("_zero_point") {
        let values = value.floatingPoint(.float64).doubles
        nonzero += values.filter { $0 != 0 }.count
        total += values.count
    }
    return (nonzero, total)
}

/// Median milliseconds per forward pass of `input`, on one thread, after two warm-up passes.
func latency(_ model: Module, _ input: Tensor, repeats: Int) -> Double {
    model.eval()
    let x = Variable(input)
    var times: [Double] = []
    Graph.noGrad {
        for i in 0..<(repeats + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model(x)
            if i >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
    }
    return times.sorted()[times.count / 2]
}

/// The size in bytes of the file at `url`.
func fileSize(_ url: URL) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
}
