import Foundation
import Testing

/// Which `Op` types a source folder declares and which an inventory test names, read from the source text, so
/// that an inventory test fails when a new op is left out of it. An op counts as covered when the test file
/// names its type as `Name.self`, `is Name` or `Name(`.
///
/// ```swift
/// @Test func everyOpIsInTheInventory() throws {
///     try OpInventory.expectCoverage(sources: "Sources/MyOps", inventory: "Tests/MyOpsTests/InventoryTests.swift",
///                                    root: OpInventory.packageRoot(of: #filePath))
/// }
/// ```
public enum OpInventory {
    /// The package root above a test file: the folder that holds its `Tests` folder.
    public static func packageRoot(of testFile: String) -> URL {
        var url = URL(fileURLWithPath: testFile).deletingLastPathComponent()
        while url.path != "/" && url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }

    /// The names of the structs and classes under `folder` that conform to `Op` or to a protocol that refines it.
    public static func declaredOps(in folder: URL) throws -> Set<String> {
        let texts = try swiftFiles(in: folder).map { try String(contentsOf: $0, encoding: .utf8) }
        // Protocols that refine Op (directly or through another) count as Op.
        var opProtocols: Set<String> = ["Op"]
        let protocols = texts.flatMap { declarations(in: $0, kinds: "protocol") }
        var grew = true
        while grew {
            grew = false
            for (name, inherited) in protocols where !opProtocols.contains(name) && !opProtocols.isDisjoint(with: inherited) {
                opProtocols.insert(name)
                grew = true
            }
        }
        return Set(texts.flatMap { declarations(in: $0, kinds: "struct|class") }
            .filter { !opProtocols.isDisjoint(with: $0.inherited) }.map(\.name))
    }

    /// The type names an inventory test mentions as `Name.self`, `is Name` or `Name(`.
    public static func coveredOps(in file: URL) throws -> Set<String> {
        let text = try String(contentsOf: file, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"(\w+)\.self\b|\bis (\w+)|\b([A-Z]\w*)\("#)
        var names: Set<String> = []
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            for group in 1...3 {
                if let range = Range(match.range(at: group), in: text) { names.insert(String(text[range])) }
            }
        }
        return names
    }

    /// Records an issue naming every op declared under `sources` that `inventory` does not mention (paths relative
    /// to `root`).
    public static func expectCoverage(sources: String, inventory: String, root: URL,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let declared = try declaredOps(in: root.appendingPathComponent(sources))
        let covered = try coveredOps(in: root.appendingPathComponent(inventory))
        #expect(!declared.isEmpty, "no Op declarations found under \(sources)", sourceLocation: sourceLocation)
        let missing = declared.subtracting(covered).sorted()
        #expect(missing.isEmpty, "ops with no case in \(inventory): \(missing.joined(separator: ", "))",
                sourceLocation: sourceLocation)
    }

    private static func swiftFiles(in folder: URL) throws -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    }

    /// `(name, inherited types)` of each declaration of the given kinds (a regex alternation) in `text`.
    private static func declarations(in text: String, kinds: String) -> [(name: String, inherited: Set<String>)] {
        let pattern = try! NSRegularExpression(pattern: #"^\s*(?:(?:public|internal|private|fileprivate|final|open)\s+)*(?:"#
            + kinds + #")\s+(\w+)(?:<[^>{]*>)?\s*:\s*([^{]*)\{"#, options: .anchorsMatchLines)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            guard let name = Range(match.range(at: 1), in: text), let list = Range(match.range(at: 2), in: text) else { return nil }
            let inherited = text[list].split { !$0.isLetter && !$0.isNumber && $0 != "_" }.map(String.init)
            return (String(text[name]), Set(inherited))
        }
    }
}
