import Testing
@testable import AutoGrad

/// Checks that an exit test's child wrote every fragment (the op's name, the shapes at fault) to standard error.
func expectTrapMessage(_ result: ExitTest.Result?, mentions fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
    for fragment in fragments {
        #expect(text.contains(fragment), "stderr lacks \"\(fragment)\":\n\(text)", sourceLocation: sourceLocation)
    }
}

/// Integer indices as a float64 tensor of the same shape, to compare or combine them with values.
func indexTensor(_ indices: TensorIndices) -> Tensor {
    Tensor(shape: indices.shape, scalars: indices.values.map(Double.init))
}
