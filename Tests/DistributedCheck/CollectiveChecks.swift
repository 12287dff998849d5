import Distributed
import Foundation

/// Each collective against values every rank can compute on its own: rank r contributes r + 1 (and r + 1 + i at index i).
func checkCollectives(_ group: ProcessGroup) throws {
    let w = group.worldSize, r = group.rank
    let mine = Tensor((0..<5).map { Float(r + 1 + $0) })
    let rankSum = w * (w + 1) / 2
    try expect(group.allReduce(mine, .sum).floats == (0..<5).map { Float(rankSum + w * $0) }, "allReduce sum")
    try expect(group.allReduce(mine, .average).floats == (0..<5).map { Float(rankSum + w * $0) / Float(w) }, "allReduce average")
    try expect(group.allReduce(mine, .max).floats == (0..<5).map { Float(w + $0) }, "allReduce max")
    try expect(group.allReduce(Tensor([Double(r)]), .min).doubles == [0], "allReduce min in float64")
    // Larger than ProcessGroup.allReducePieceBytes and not a multiple of it, so it goes as several pieces.
    let pieces = 2 * (1 << 20) / 4 + 12_345
    let long = Tensor((0..<pieces).map { Float(r + 1 + $0 % 1000) })
    try expect(group.allReduce(long, .sum).floats == (0..<pieces).map { Float(rankSum + w * ($0 % 1000)) },
               "allReduce sum of \(pieces) floats in pieces")
    let longDouble = Tensor((0..<pieces / 2).map { Double(r + 1 + $0 % 1000) })
    try expect(group.allReduce(longDouble, .max).doubles == (0..<pieces / 2).map { Double(w + $0 % 1000) },
               "allReduce max of \(pieces / 2) doubles in pieces")
    let gathered = group.allGather(Tensor(shape: [2], scalars: [Double(r), Double(-r)]))
    try expect(gathered.shape == [w, 2] && gathered.doubles == (0..<w).flatMap { [Double($0), Double(-$0)] }, "allGather")
    let fromLast = group.broadcast(Tensor(shape: [2, 2], scalars: Array(repeating: Float(r), count: 4)), from: w - 1)
    try expect(fromLast.floats == Array(repeating: Float(w - 1), count: 4), "broadcast from the last rank")
    group.barrier()
}

/// Throws, naming the check, when `condition` is false.
func expect(_ condition: Bool, _ what: String) throws {
    if !condition { throw CheckFailure(description: "\(what) gave a wrong result") }
}
