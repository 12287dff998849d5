/// `f` applied to every element, keeping shape and dtype. Float elements are computed in Double
/// and rounded, so a Foundation function of Double serves both dtypes.
func mapElements(_ x: Tensor, _ f: (Double) -> Double) -> Tensor {
    var out = x
    switch x.dtype {
    case .float32: out.withUnsafeMutableBufferPointer(as: Float.self) { p in for i in p.indices { p[i] = Float(f(Double(p[i]))) } }
    case .float64: out.withUnsafeMutableBufferPointer(as: Double.self) { p in for i in p.indices { p[i] = f(p[i]) } }
    }
    return out
}
