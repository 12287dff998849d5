import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// Tensors with at most this many elements print their values; larger ones print shape and dtype.
    public static let printThreshold = 1000

    /// PyTorch-like text: `tensor([[1.0, 2.0], [3.0, 4.0]], dtype=float32)`, or
    /// `Tensor(shape: [1000, 1000], dtype: float32)` for large tensors.
    public var description: String {
        if count > Tensor.printThreshold { return "Tensor(shape: \(shape), dtype: \(dtype))" }
        let values = doubles
        let formatted = values.map { Tensor.format($0, dtype: dtype) }
        let width = formatted.map(\.count).max() ?? 0
        let padded = formatted.map { String(repeating: " ", count: width - $0.count) + $0 }
        var index = 0
        func render(_ dim: Int, indent: Int) -> String {
            if dim == rank { defer { index += 1 }; return padded[index] }
            let parts = (0..<shape[dim]).map { _ in render(dim + 1, indent: indent + 1) }
            let separator = dim == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: indent + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return "tensor(" + render(0, indent: 7) + ", dtype=\(dtype))"
    }

    /// The same text as ``description``.
    public var debugDescription: String { description }

    private static func format(_ v: Double, dtype: DType) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded() && Swift.abs(v) < 1e9 { return String(format: "%.1f", v) }
        let magnitude = Swift.abs(v)
        if magnitude >= 1e-4 && magnitude < 1e6 { return String(format: "%.4f", v) }
        return String(format: "%.4e", v)
    }
}
