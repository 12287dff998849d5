import AutoGradTestSupport
import Data
import Foundation
import NN
import Testing

// The swift snippets of the `///` comments of AutoGrad and AutoGradTestSupport as the comments show them
// (scripts/sync-doc-snippets.py copies them here, DocSnippetSyncTests fails when they differ), one function per
// snippet, grouped by source file. A function's parameters are what its snippet assumes; the ones that need
// nothing from outside also run, in AutoGradDocCommentRuns.

// MARK: Sources/AutoGrad/Attention/ScaledDotProductAttention.swift

func scaledDotProductAttentionComment() {
    // snippet: Sources/AutoGrad/Attention/ScaledDotProductAttention.swift#1
    let q = Variable(Tensor.randn([8, 4, 64, 32]), requiresGrad: true)          // [batch, heads, T, E]
    let y = Variable.scaledDotProductAttention(query: q, key: q, value: q, isCausal: true)   // [8, 4, 64, 32]
    // end snippet
    _ = y
}

// MARK: Sources/AutoGrad/Autograd

func checkpointComment(x: Variable, blocks: [Module]) {
    // snippet: Sources/AutoGrad/Autograd/Checkpoint.swift#1
    // Four blocks whose activations would not fit together: keep only each block's input.
    var h = x
    for block in blocks { h = checkpoint(h, parameters: block.parameters()) { block($0) } }
    // end snippet
    _ = h
}

func gradientHooksComment() {
    // snippet: Sources/AutoGrad/Autograd/GradientHooks.swift#1
    let w = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
    w.registerHook { g in g * 2 }      // doubles every gradient w receives
    (w * w).sum().backward()           // w.grad == [4, 8]
    // end snippet
}

func graphComment() {
    // snippet: Sources/AutoGrad/Autograd/Graph.swift#1
    let x = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
    let dx = Graph.gradients(of: x.pow(3).sum(), withRespectTo: [x])[0]   // 3x² = [3, 12]
    // end snippet
    _ = dx
}

func opComment() {
    // snippet: Sources/AutoGrad/Autograd/Op.swift#1
    struct Exp: Op {
        func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].exp() }
        func backward(_ gradient: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
            [gradient * output]
        }
    }
    // end snippet
    _ = Exp()
}

func opNeededComment() {
    // snippet: Sources/AutoGrad/Autograd/Op.swift#2
    struct Scale: Op {   // (x, s) → x·s
        func forward(_ x: [Tensor]) -> Tensor { x[0] * x[1] }
        func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
            backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
        }
        func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
            [needed[0] ? g * inputs[1] : nil, needed[1] ? g * inputs[0] : nil]
        }
    }
    // end snippet
    _ = Scale()
}

func variableComment() {
    // snippet: Sources/AutoGrad/Autograd/Variable.swift#1
    let w = Variable(Tensor.randn([3, 2]), requiresGrad: true)
    let x = Variable(Tensor.ones([4, 3]))
    let loss = (x.matmul(w)).relu().sum()
    loss.backward()
    print(w.grad!)     // ∂loss/∂w, shape [3, 2]
    // end snippet
}

// MARK: Sources/AutoGrad/Convolution/ConvolutionAPI.swift

func conv2dComment() {
    // snippet: Sources/AutoGrad/Convolution/ConvolutionAPI.swift#1
    let x = Variable(Tensor.randn([8, 3, 32, 32]))
    let w = Variable(Tensor.randn([16, 3, 3, 3]), requiresGrad: true)
    let y = Variable.conv2d(x, weight: w, stride: (2, 2), padding: 1)   // [8, 16, 16, 16]
    // end snippet
    _ = y
}

func convTranspose2dComment() {
    // snippet: Sources/AutoGrad/Convolution/ConvolutionAPI.swift#2
    let z = Variable(Tensor.randn([8, 128, 7, 7]))
    let w = Variable(Tensor.randn([128, 64, 4, 4]), requiresGrad: true)
    let up = Variable.convTranspose2d(z, weight: w, stride: (2, 2), padding: (1, 1))   // [8, 64, 14, 14]
    // end snippet
    _ = up
}

// MARK: Sources/AutoGrad/Gradcheck/Gradcheck.swift

func gradcheckComment() throws {
    // snippet: Sources/AutoGrad/Gradcheck/Gradcheck.swift#1
    try gradcheck({ x in (x[0] * x[1]).exp().sum(axes: [1]) },
                  inputs: [Tensor.randn([3, 4]), Tensor.randn([1, 4])])
    // end snippet
}

func gradgradcheckComment() throws {
    // snippet: Sources/AutoGrad/Gradcheck/Gradcheck.swift#2
    try gradgradcheck({ x in (x[0] * x[1]).tanh() }, inputs: [Tensor.randn([3, 4]), Tensor.randn([4])])
    // end snippet
}

// MARK: Sources/AutoGrad/Serialization

func checkedSizeComment(dimensions: [Int], path: String) throws -> Int {
    // snippet: Sources/AutoGrad/Serialization/CheckedSize.swift#1
    guard let count = CheckedSize.product(dimensions, limit: 1 << 32) else {
        throw DataError(path: path, .implausibleSize("dimensions \(dimensions) hold more than 2³² elements"))
    }
    // end snippet
    return count
}

func safeTensorsComment(url: URL) throws {
    // snippet: Sources/AutoGrad/Serialization/SafeTensors.swift#1
    try SafeTensors.write(["w": Tensor.ones([2, 2])], metadata: ["epoch": "3"], to: url)
    let (tensors, metadata) = try SafeTensors.read(from: url)
    // end snippet
    _ = (tensors, metadata)
}

// MARK: Sources/AutoGrad/Tensor

func instructionSetComment(x: Tensor, w: Tensor) {
    // snippet: Sources/AutoGrad/Tensor/InstructionSet.swift#1
    print(InstructionSet.active)                 // "avx2" on an AVX2 laptop
    InstructionSet.withCap(.generic) {           // the portable kernels, e.g. to compare results
        _ = Tensor.matmul(x, w)
    }
    // end snippet
}

func intTensorComment() {
    // snippet: Sources/AutoGrad/Tensor/IntTensor.swift#1
    let tokens = IntTensor(shape: [2, 4], values: [5, 17, 3, 0, 42, 42, 0, 0])
    let first = tokens.rows(0..<1)            // shape [1, 4]
    let flat = tokens.reshaped([-1])          // shape [8]
    let asFloat = Tensor(tokens, dtype: .float32)
    let back = IntTensor(exactly: asFloat)   // Optional(tokens); nil if any value were fractional
    // end snippet
    _ = (first, flat, back)
}

func randomGeneratorComment() {
    // snippet: Sources/AutoGrad/Tensor/RandomGenerator.swift#1
    let g = RandomGenerator(seed: 42)
    let w = Tensor.randn([3, 4], generator: g)
    // end snippet
    _ = w
}

func multinomialComment(logits: Tensor) {
    // snippet: Sources/AutoGrad/Tensor/Tensor+Multinomial.swift#1
    let next = Tensor.multinomial(logits.softmax(), sampleCount: 1, generator: RandomGenerator(seed: 7))
    // end snippet
    _ = next
}

func tensorComment() {
    // snippet: Sources/AutoGrad/Tensor/Tensor.swift#1
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6] as [Float])
    let b = a * 2 + 1          // broadcasting with scalars
    print(b.sum(axes: [1]))    // tensor([15.0, 33.0], dtype=float32)
    // end snippet
}

// MARK: Sources/AutoGradTestSupport/OpInventory.swift

/// A user's package layout, which this one does not have: compiled, never run.
@Suite(.disabled("compiled only: the paths name a user's package")) struct OpInventoryComment {
    // snippet: Sources/AutoGradTestSupport/OpInventory.swift#1
    @Test func everyOpIsInTheInventory() throws {
        try OpInventory.expectCoverage(sources: "Sources/MyOps", inventory: "Tests/MyOpsTests/InventoryTests.swift",
                                       root: OpInventory.packageRoot(of: #filePath))
    }
    // end snippet
}

@Suite struct AutoGradDocCommentRuns {
    @Test func snippetsRun() throws {
        scaledDotProductAttentionComment()
        let blockList: [Module] = [Linear(3, 3), Linear(3, 3)]
        checkpointComment(x: Variable(Tensor.randn([2, 3])), blocks: blockList)
        gradientHooksComment()
        graphComment()
        opComment()
        opNeededComment()
        variableComment()
        try gradcheckComment()
        try gradgradcheckComment()
        #expect(try checkedSizeComment(dimensions: [2, 3], path: "x") == 6)
        try safeTensorsComment(url: FileManager.default.temporaryDirectory
            .appendingPathComponent("doc-comment-\(UUID().uuidString).safetensors"))
        instructionSetComment(x: Tensor.randn([2, 3]), w: Tensor.randn([3, 2]))
        intTensorComment()
        randomGeneratorComment()
        multinomialComment(logits: Tensor.randn([4]))
        tensorComment()
    }
}
