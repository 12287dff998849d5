#!/usr/bin/env python3
"""Copies every ```swift block of README.md, the DocC articles and the `///` comments under Sources/ into its
compiled copy under Tests/.

A snippet's key is its document and its number among that document's swift blocks: `README.md#1`,
`Sources/NN/NN.docc/NN.md#2`, `Sources/NN/Layers/Linear.swift#1` (counting blocks of `///` comments only, read
without the `/// ` that starts each line, as DocC reads them). A compiled copy is the region between
`// snippet: <key>` and `// end snippet` in any Swift file under Tests/ (DocSnippetTests holds most); the code
around it supplies what the snippet assumes (a `model`, a `loader`). `import` lines are left out, since Swift
needs them at the top of the file. Run this after editing a snippet, then `swift build --build-tests`;
DocSnippetSyncTests fails while a doc and its copy differ, and names the snippets that have no copy.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(\s*)// snippet: (\S+)$")
END = re.compile(r"^\s*// end snippet$")
DOC_COMMENT = re.compile(r"^\s*/// ?(.*)$")


def documents():
    """README, the DocC articles, and the Swift sources, whose `///` comments DocC renders as well."""
    return ([ROOT / "README.md"] + sorted(ROOT.glob("Sources/*/*.docc/**/*.md"))
            + sorted(ROOT.glob("Sources/**/*.swift")))


def rendered_lines(doc):
    """The lines DocC renders: all of an article, the `///` lines of a Swift source without their marker."""
    lines = doc.read_text().splitlines()
    if doc.suffix != ".swift":
        return lines
    return [match.group(1) for match in map(DOC_COMMENT.match, lines) if match]


def snippets():
    """Maps `path#n` to the lines of the n-th swift block of each document, import lines left out."""
    found = {}
    for doc in documents():
        relative = doc.relative_to(ROOT).as_posix()
        block, n = None, 0
        for line in rendered_lines(doc):
            if block is None and line.strip() == "```swift":
                block, n = [], n + 1
            elif block is not None and line.strip() == "```":
                body = [l for l in block if not l.startswith("import ")]
                while body and not body[0].strip():
                    body.pop(0)
                found[f"{relative}#{n}"] = body
                block = None
            elif block is not None:
                block.append(line)
    return found


def main():
    docs = snippets()
    seen = set()
    for source in sorted((ROOT / "Tests").rglob("*.swift")):
        lines = source.read_text().splitlines()
        out, i, changed = [], 0, False
        while i < len(lines):
            out.append(lines[i])
            match = BEGIN.match(lines[i])
            i += 1
            if not match:
                continue
            indent, key = match.groups()
            start = i
            while i < len(lines) and not END.match(lines[i]):
                i += 1
            if key not in docs:
                print(f"{source.relative_to(ROOT)}: no snippet {key} in the docs", file=sys.stderr)
                out += lines[start:i]
                continue
            seen.add(key)
            body = [indent + l if l.strip() else "" for l in docs[key]]
            changed |= body != lines[start:i]
            out += body
        if changed:
            source.write_text("\n".join(out) + "\n")
            print(f"updated {source.relative_to(ROOT)}")
    missing = sorted(set(docs) - seen)
    for key in missing:
        print(f"no compiled copy of {key}: add a `// snippet: {key}` region under Tests/", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
