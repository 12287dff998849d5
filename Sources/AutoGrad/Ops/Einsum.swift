// Einstein summation, lowered to differentiable primitives: permute, reshape, broadcast, sum and batched matrix
// products. It has no backward of its own; gradients (of every order) come from those primitives.

/// A parsed einsum equation: each operand's labels (letters, with `...` expanded to one label per broadcast
/// dimension) and the output's labels.
struct EinsumEquation {
    /// One label list per operand, in the operand's dimension order.
    let operands: [[Int]]
    /// The output's labels, in order.
    let output: [Int]
    /// The size of every label (the broadcast of its sizes in the operands).
    let sizes: [Int: Int]

    /// Labels of letters are their UTF-8 codes (so `A`–`Z` sort before `a`–`z`, PyTorch's implicit order);
    /// the broadcast dimensions of `...` are labels from `ellipsisBase` on, right-aligned across operands.
    static let ellipsisBase = 1000

    /// The letter of a letter label.
    static func letter(_ label: Int) -> Character { Character(Unicode.Scalar(UInt8(label))) }

    /// Parses `equation` for operands of `shapes`, trapping with a message that names the equation and the shapes.
    init(_ equation: String, shapes: [[Int]]) {
        func fail(_ why: String) -> Never {
            preconditionFailure("einsum: \(why) in equation \"\(equation)\" for operand shapes \(shapes.map { "\($0)" }.joined(separator: ", "))")
        }
        let compact = equation.filter { $0 != " " }
        let sides = compact.components(separatedBy: "->")
        guard sides.count <= 2 else { fail("more than one \"->\"") }
        let terms = sides[0].components(separatedBy: ",")
        guard terms.count == shapes.count else { fail("\(terms.count) operand subscripts but \(shapes.count) operands") }

        /// The letters of a term, and whether (and where) it has an ellipsis.
        func letters(_ term: String, _ what: String) -> (before: [Int], after: [Int], ellipsis: Bool) {
            let parts = term.components(separatedBy: "...")
            guard parts.count <= 2 else { fail("more than one \"...\" in \(what)") }
            let codes = parts.map { part -> [Int] in
                part.unicodeScalars.map { c -> Int in
                    guard ("a"..."z").contains(c) || ("A"..."Z").contains(c) else { fail("invalid subscript '\(c)' in \(what)") }
                    return Int(c.value)
                }
            }
            return (codes[0], parts.count == 2 ? codes[1] : [], parts.count == 2)
        }

        var operandLabels: [[Int]] = []
        var ellipsisRank = 0
        var parsed: [(before: [Int], after: [Int], ellipsis: Bool)] = []
        for (i, (term, shape)) in zip(terms, shapes).enumerated() {
            let p = letters(term, "operand \(i) (\"\(term)\")")
            let named = p.before.count + p.after.count
            guard p.ellipsis ? shape.count >= named : shape.count == named else {
                fail("operand \(i) has subscripts \"\(term)\" for shape \(shape)")
            }
            if let repeated = (p.before + p.after).first(where: { l in (p.before + p.after).filter { $0 == l }.count > 1 }) {
                fail("subscript '\(EinsumEquation.letter(repeated))' repeats in operand \(i) (a diagonal, which einsum does not take)")
            }
            ellipsisRank = Swift.max(ellipsisRank, shape.count - named)
            parsed.append(p)
        }
        for (p, shape) in zip(parsed, shapes) {
            let k = shape.count - p.before.count - p.after.count
            let broadcast = (0..<k).map { EinsumEquation.ellipsisBase + ellipsisRank - k + $0 }
            operandLabels.append(p.before + broadcast + p.after)
        }
        let ellipsisLabels = (0..<ellipsisRank).map { EinsumEquation.ellipsisBase + $0 }

        var sizes: [Int: Int] = [:]
        for (i, (labels, shape)) in zip(operandLabels, shapes).enumerated() {
            for (label, size) in zip(labels, shape) {
                guard let known = sizes[label] else {
                    sizes[label] = size
                    continue
                }
                guard known == size || known == 1 || size == 1 else {
                    let name = label >= EinsumEquation.ellipsisBase ? "a \"...\" dimension" : "subscript '\(EinsumEquation.letter(label))'"
                    fail("\(name) has size \(size) in operand \(i) but \(known) elsewhere")
                }
                if known == 1 { sizes[label] = size }
            }
        }

        if sides.count == 2 {
            let p = letters(sides[1], "the output")
            let named = p.before + p.after
            for label in named where !operandLabels.contains(where: { $0.contains(label) }) {
                fail("output subscript '\(EinsumEquation.letter(label))' appears in no operand")
            }
            if let repeated = named.first(where: { l in named.filter { $0 == l }.count > 1 }) {
                fail("output subscript '\(EinsumEquation.letter(repeated))' repeats")
            }
            output = p.before + (p.ellipsis ? ellipsisLabels : []) + p.after
        } else {
            // Implicit output: the broadcast dimensions, then the letters used exactly once, in code order.
            let all = operandLabels.flatMap { $0 }.filter { $0 < EinsumEquation.ellipsisBase }
            output = ellipsisLabels + Set(all).filter { l in all.filter { $0 == l }.count == 1 }.sorted()
        }
        operands = operandLabels
        self.sizes = sizes
    }
}

/// A partial result: a variable and the label of each of its dimensions.
private struct Labelled {
    var value: Variable
    var labels: [Int]

    /// Dimensions whose labels are not in `keep` summed away.
    func summing(except keep: Set<Int>) -> Labelled {
        let axes = labels.indices.filter { !keep.contains(labels[$0]) }
        guard !axes.isEmpty else { return self }
        return Labelled(value: value.sum(axes: axes), labels: labels.filter { keep.contains($0) })
    }

    /// Dimensions reordered to `order` (a permutation of `labels`), broadcast to the full label sizes, and
    /// merged into the groups given by `groups` (counts of consecutive labels).
    func arranged(_ order: [Int], sizes: [Int: Int], groups: [Int]) -> Variable {
        let permutation = order.map { labels.firstIndex(of: $0)! }
        let permuted = permutation == Array(labels.indices) ? value : value.permuted(permutation)
        let full = permuted.broadcast(to: order.map { sizes[$0]! })
        var start = 0
        let merged = groups.map { count -> Int in
            defer { start += count }
            return order[start..<(start + count)].reduce(1) { $0 * sizes[$1]! }
        }
        return full.reshaped(merged)
    }
}

extension Variable {
    /// Einstein summation (PyTorch's `torch.einsum`): multiplies the operands along their equally-labelled
    /// dimensions and sums over the labels missing from the output.
    ///
    /// `"ij,jk->ik"` is a matrix product, `"bij,bjk->bik"` a batched one, `"ij->ji"` a transpose, `"i,i->"` a dot
    /// product, `"i,j->ij"` an outer product, `"...ij->...ji"` a transpose over any leading dimensions. With no
    /// `->`, the output is the `...` dimensions followed by the letters used exactly once, in alphabetical order
    /// (`A`–`Z` before `a`–`z`). Sizes of one label must agree across operands, or be 1 (broadcast), and so must
    /// the `...` dimensions (right-aligned). Labels are the letters `a`–`z` and `A`–`Z`; spaces are ignored.
    ///
    /// Math: `out[o] = Σ_{s} Πₖ opₖ[labels of k]` over the summed labels `s`. It is computed by contracting the
    /// operands left to right, each pair as one batched matrix product (`[batch, m, k]·[batch, k, n]`) after
    /// labels used by neither the output nor a later operand are summed; so the gradient (and its gradients)
    /// come from those primitives.
    ///
    /// - Precondition: one subscript term per operand, each naming every dimension; no label repeated within an
    ///   operand (diagonals such as `"ii->i"` are not supported) or in the output; every output label in some
    ///   operand. Otherwise the program stops naming the equation and the operands' shapes.
    public static func einsum(_ equation: String, _ operands: [Variable]) -> Variable {
        precondition(!operands.isEmpty, "einsum: equation \"\(equation)\" needs at least one operand")
        let parsed = EinsumEquation(equation, shapes: operands.map(\.shape))
        let outputSet = Set(parsed.output)
        var current = Labelled(value: operands[0], labels: parsed.operands[0])
        for next in 1..<operands.count {
            // Labels still needed after this pair: the output's and the later operands'.
            var keep = outputSet
            for later in parsed.operands[(next + 1)...] { keep.formUnion(later) }
            let right = Labelled(value: operands[next], labels: parsed.operands[next])
            let (leftSet, rightSet) = (Set(current.labels), Set(right.labels))
            let a = current.summing(except: keep.union(rightSet)), b = right.summing(except: keep.union(leftSet))
            let shared = a.labels.filter { b.labels.contains($0) }
            let batch = shared.filter { keep.contains($0) }, contracted = shared.filter { !keep.contains($0) }
            let leftOnly = a.labels.filter { !shared.contains($0) }, rightOnly = b.labels.filter { !shared.contains($0) }
            let product = Variable.matmul(a.arranged(batch + leftOnly + contracted, sizes: parsed.sizes, groups: [batch.count, leftOnly.count, contracted.count]),
                                          b.arranged(batch + contracted + rightOnly, sizes: parsed.sizes, groups: [batch.count, contracted.count, rightOnly.count]))
            let labels = batch + leftOnly + rightOnly
            current = Labelled(value: product.reshaped(labels.map { parsed.sizes[$0]! }), labels: labels)
        }
        let reduced = current.summing(except: outputSet)
        return reduced.arranged(parsed.output, sizes: parsed.sizes, groups: parsed.output.map { _ in 1 })
    }

    /// ``einsum(_:_:)-swift.type.method`` with the operands as arguments: `Variable.einsum("ij,jk->ik", a, b)`.
    public static func einsum(_ equation: String, _ operands: Variable...) -> Variable { einsum(equation, operands) }
}

extension Tensor {
    /// Einstein summation without autograd; equation rules as `Variable.einsum(_:_:)`.
    public static func einsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
        Variable.einsum(equation, operands.map { Variable($0) }).value
    }

    /// ``einsum(_:_:)-swift.type.method`` with the operands as arguments.
    public static func einsum(_ equation: String, _ operands: Tensor...) -> Tensor { einsum(equation, operands) }
}
