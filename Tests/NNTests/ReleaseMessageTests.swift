import Testing
@testable import NN

/// NN's checks go through the package's message-keeping `precondition` too (see AutoGrad's Preconditions.swift):
/// "Fatal error: <message>" in every build, where the standard library's prints "Precondition failed" in debug
/// builds and drops the message in release ones.
@Suite struct NNReleaseMessageTests {
    @Test func aLayerShapeTrapKeepsItsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Linear(4, 2)(Variable(Tensor.zeros([3, 5])))
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("Fatal error: Linear") && text.contains("[3, 5]") && !text.contains("Precondition failed"),
                "\(text)")
    }
}
