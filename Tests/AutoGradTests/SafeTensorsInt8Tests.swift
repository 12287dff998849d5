import Foundation
import Testing
@testable import AutoGrad

/// `I8` writing (quantised weights): the bytes as they are, the header's dtype, and the reader's integers back.
@Suite struct SafeTensorsInt8Tests {
    @Test func int8TensorsWriteAsI8AndReadBack() throws {
        let values: [Int8] = [-128, -1, 0, 1, 127, 42]
        let data = SafeTensors.encode(stored: ["q": .int8(shape: [2, 3], values: values), "s": .float(Tensor([Float(0.5)]))])
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = String(decoding: data.dropFirst(8).prefix(headerLength), as: UTF8.self)
        #expect(header.contains("\"q\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]}"))
        #expect(Array(data.dropFirst(8 + headerLength).prefix(6)).map { Int8(bitPattern: $0) } == values)
        let stored = try SafeTensors.decodeStored(data).tensors
        #expect(stored["q"] == .integer(IntTensor(shape: [2, 3], values: values.map(Int.init))))
        #expect(StoredTensor.int8(shape: [2, 3], values: values).integers == IntTensor(shape: [2, 3], values: values.map(Int.init)))
    }

    @Test func mismatchedByteCountTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = SafeTensors.encode(stored: ["q": .int8(shape: [2, 3], values: [1, 2])])
        }
    }
}
