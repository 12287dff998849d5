import Foundation
import Testing

/// Every ```swift block of README.md, of the DocC articles and of the `///` comments under Sources/ has a compiled
/// copy under Tests/ — the region between `// snippet: <doc path>#<n>` and `// end snippet` — with the same lines
/// (less `import`s, which Swift needs at the top of the file). A snippet edited in the docs and not copied, or a copy
/// edited and not documented, fails here; `scripts/sync-doc-snippets.py` copies the docs' version (and its docstring
/// says how snippets are keyed).
@Suite struct DocSnippetSyncTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README, the DocC articles, and the Swift sources, whose `///` comments DocC renders as well.
    static func documents() throws -> [String] {
        var documents = ["README.md"]
        let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent("Sources").path)
        while let file = enumerator?.nextObject() as? String {
            if file.hasSuffix(".swift") || (file.hasSuffix(".md") && file.contains(".docc/")) {
                documents.append("Sources/\(file)")
            }
        }
        return documents
    }

    /// The lines DocC renders: all of an article, the `///` lines of a Swift source without their marker.
    static func renderedLines(_ document: String) throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent(document), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard document.hasSuffix(".swift") else { return lines }
        return lines.compactMap { line in
            let comment = line.drop { $0 == " " || $0 == "\t" }
            guard comment.hasPrefix("///") else { return nil }
            let text = comment.dropFirst(3)
            return String(text.hasPrefix(" ") ? text.dropFirst() : text)
        }
    }

    /// `path#n` → the n-th swift block of each document, import lines and leading blank lines left out.
    static func documentedSnippets() throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        for document in try documents() {
            var block: [String]?
            var n = 0
            for line in try renderedLines(document) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if block == nil && trimmed == "```swift" {
                    block = []
                    n += 1
                } else if let body = block, trimmed == "```" {
                    found["\(document)#\(n)"] = Array(body.filter { !$0.hasPrefix("import ") }
                        .drop { $0.trimmingCharacters(in: .whitespaces).isEmpty })
                    block = nil
                } else if block != nil {
                    block!.append(line)
                }
            }
        }
        return found
    }

    /// `path#n` → the compiled copy's lines, its marker's indentation removed.
    static func compiledCopies() throws -> [String: [String]] {
        var copies: [String: [String]] = [:]
        let tests = root.appendingPathComponent("Tests")
        let enumerator = FileManager.default.enumerator(atPath: tests.path)
        while let file = enumerator?.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let lines = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                let trimmed = lines[i].trimmingCharacters(in: .whitespaces)
                i += 1
                guard trimmed.hasPrefix("// snippet: ") else { continue }
                let key = String(trimmed.dropFirst("// snippet: ".count))
                let indent = lines[i - 1].prefix { $0 == " " }.count
                var body: [String] = []
                while i < lines.count && lines[i].trimmingCharacters(in: .whitespaces) != "// end snippet" {
                    body.append(String(lines[i].dropFirst(Swift.min(indent, lines[i].prefix { $0 == " " }.count))))
                    i += 1
                }
                copies[key] = body
            }
        }
        return copies
    }

    @Test func everyDocumentedSnippetIsCompiledAsWritten() throws {
        let documented = try Self.documentedSnippets(), compiled = try Self.compiledCopies()
        #expect(documented.count >= 120, "found only \(documented.count) snippets under \(Self.root.path)")
        for key in documented.keys.sorted() {
            guard let copy = compiled[key] else {
                Issue.record("\(key) has no compiled copy: add a `// snippet: \(key)` region under Tests/")
                continue
            }
            let doc = documented[key]!
            if let line = zip(doc, copy).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? (doc.count == copy.count ? nil : Swift.min(doc.count, copy.count)) {
                Issue.record("""
                    \(key) differs from its compiled copy at line \(line + 1) of the snippet: \
                    docs "\(line < doc.count ? doc[line] : "<end>")", copy "\(line < copy.count ? copy[line] : "<end>")"; \
                    run scripts/sync-doc-snippets.py
                    """)
            }
        }
        for key in Set(compiled.keys).subtracting(documented.keys).sorted() {
            Issue.record("a compiled copy names \(key), which is no snippet in the docs")
        }
    }
}
