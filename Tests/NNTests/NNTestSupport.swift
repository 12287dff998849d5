import Foundation
import Testing
@testable import NN

/// A Double tensor from literal values.
func doubles(_ shape: [Int], _ values: [Double]) -> Tensor { Tensor(shape: shape, scalars: values) }

/// Whether every element of `a` is within `tolerance` of `b`.
func isClose(_ a: Tensor, _ b: Tensor, tolerance: Double = 1e-9) -> Bool {
    a.shape == b.shape && zip(a.doubles, b.doubles).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

/// The gradient of `f(x).sum()` at `x`, in Double.
func gradient(at x: Tensor, _ f: (Variable) -> Variable) -> Tensor {
    let v = Variable(x.to(.float64), requiresGrad: true)
    f(v).sum().backward()
    return v.grad!
}

/// A fresh file URL in a per-test temporary directory.
func temporaryFile(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nn-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}
