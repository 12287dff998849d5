/// The tape entry for one applied ``Op``: what backward needs to run it.
///
/// A record is owned by the ``Variable`` it produced and owns its inputs, so the graph is freed
/// when the last Variable referring to it goes away, and there are no reference cycles: the
/// output is kept as a tensor, not as the Variable that owns this record.
final class Record {
    let op: any Op
    private(set) var inputs: [Variable]
    private(set) var outputValue: Tensor?
    /// Position on the tape: every record's inputs were made by records with smaller numbers.
    let sequence: Int
    /// The gradient hooks of the variable this record produced; nil until one is registered.
    var hooks: GradientHooks?

    init(op: any Op, inputs: [Variable], output: Tensor, sequence: Int) {
        self.op = op
        self.inputs = inputs
        self.outputValue = output
        self.sequence = sequence
    }

    var isReleased: Bool { outputValue == nil }

    /// Frees the chain of records behind this one iteratively. Left to ARC, dropping a long graph
    /// recurses once per op (record → input variable → its record → …) and overflows the stack
    /// (a forward-only chain of 100,000 ops did). Inputs and records that something else still
    /// holds are left alone.
    deinit {
        var stack = inputs
        inputs = []
        while var variable = stack.popLast() {
            guard isKnownUniquelyReferenced(&variable), var record = variable.record else { continue }
            variable.record = nil
            guard isKnownUniquelyReferenced(&record) else { continue }
            stack.append(contentsOf: record.inputs)
            record.inputs = []
        }
    }

    /// Drops what backward needed, after a backward pass that did not retain the graph.
    func release() {
        inputs = []
        outputValue = nil
    }
}
