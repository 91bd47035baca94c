#!/usr/bin/env bash
# Compares each target's `import X` lines with the dependencies Package.swift declares for it.
# Fails, one line per problem, on an import that is not declared and on a declared dependency that
# nothing in the target imports. Reads only Package.swift and the sources: no network, no build.
# Usage: scripts/check-dependencies.sh [package-directory]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
exec python3 - <<'PYTHON'
import os
import re
import sys

# Modules the toolchain provides: importing them needs no declaration.
SYSTEM_MODULES = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML",
    "Glibc", "Musl", "Darwin", "Android", "WinSDK", "Dispatch", "Synchronization",
    "XCTest", "Testing", "os", "_Concurrency", "_StringProcessing", "Observation", "Swift",
}

# A product usually builds one module of the same name. The exceptions among our dependencies'
# products (product name -> the modules it makes importable).
PRODUCT_MODULES = {
    "Instrumentation": {"Instrumentation", "ServiceContextModule"},
    "_NIOFileSystem": {"_NIOFileSystem", "NIOFileSystem"},
}

IMPORT = re.compile(
    r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*"  # @testable, @preconcurrency, @_spi(X), ...
    r"(?:(?:public|package|internal|fileprivate|private)\s+)?"  # access-level imports
    r"import\s+(?:(?:struct|class|enum|protocol|typealias|func|var|let)\s+)?"  # import struct X.Y
    r"([A-Za-z_][A-Za-z_0-9]*)"
)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def balanced(text, start, opening, closing):
    """The text between text[start] (an opening bracket) and its matching closing bracket."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    raise SystemExit(f"Package.swift: unbalanced {opening}{closing} from offset {start}")


def targets(manifest):
    kinds = {"target": "Sources", "executableTarget": "Sources", "testTarget": "Tests"}
    declaration_end = 0
    for match in re.finditer(r"\.(target|executableTarget|testTarget)\s*\(", manifest):
        if match.start() < declaration_end:
            continue  # `.target(name:)` inside a dependency list, not a declaration
        body = balanced(manifest, match.end() - 1, "(", ")")
        declaration_end = match.end() + len(body)
        name = re.search(r'^\s*name:\s*"([^"]+)"', body)
        if not name:
            continue
        name = name.group(1)
        path = re.search(r'\bpath:\s*"([^"]+)"', body)
        directory = path.group(1) if path else os.path.join(kinds[match.group(1)], name)
        dependencies = {}  # module -> how it was declared
        products = {}  # declared product -> the modules it provides
        deps = re.search(r"\bdependencies:\s*\[", body)
        if deps:
            listing = balanced(body, deps.end() - 1, "[", "]")
            # `condition: .when(platforms:, traits:)` still declares the dependency; its strings are not targets.
            listing = re.sub(r"condition:\s*\.when\([^)]*\)", "", listing)
            for product in re.finditer(r'\.product\(\s*name:\s*"([^"]+)"\s*,\s*package:\s*"([^"]+)"', listing):
                label = f'.product(name: "{product.group(1)}", package: "{product.group(2)}")'
                products[label] = PRODUCT_MODULES.get(product.group(1), {product.group(1)})
            listing = re.sub(r"\.product\([^)]*\)", "", listing)
            for target in re.finditer(r'(?:\.(?:target|byName)\(\s*name:\s*)?"([^"]+)"', listing):
                dependencies[target.group(1)] = f'"{target.group(1)}"'
        yield name, match.group(1), directory, dependencies, products


def imports(directory):
    found = {}  # module -> first file:line importing it
    for root, _, files in os.walk(directory):
        for file in sorted(files):
            if not file.endswith(".swift"):
                continue
            path = os.path.join(root, file)
            with open(path, encoding="utf-8") as source:
                in_block_comment = in_multiline_string = False
                for number, line in enumerate(source, 1):
                    if line.count('"""') % 2 == 1:  # a multi-line string literal opens or closes here
                        in_multiline_string = not in_multiline_string
                        continue
                    if in_multiline_string:
                        continue
                    if in_block_comment:
                        if "*/" in line:
                            in_block_comment = False
                        continue
                    if line.lstrip().startswith("/*") and "*/" not in line:
                        in_block_comment = True
                        continue
                    match = IMPORT.match(line)
                    if match:
                        found.setdefault(match.group(1), f"{path}:{number}")
    return found


with open("Package.swift", encoding="utf-8") as manifest_file:
    manifest = strip_comments(manifest_file.read())

declared = list(targets(manifest))
kinds = {name: kind for name, kind, *_ in declared}
problems = []
for name, kind, directory, dependencies, products in declared:
    if not os.path.isdir(directory):
        problems.append(f"{name}: its directory {directory} does not exist")
        continue
    used = imports(directory)
    provided = set(dependencies)
    for modules in products.values():
        provided |= modules
    for module, where in sorted(used.items()):
        if module in SYSTEM_MODULES or module == name or module in provided:
            continue
        problems.append(f"{where}: {name} imports {module} but does not declare it in Package.swift")
    for module, label in sorted(dependencies.items()):
        # A test target may depend on an executable only to have it built (its tests run the binary).
        if module not in used and not (kinds.get(module) == "executableTarget" and kind == "testTarget"):
            problems.append(f"Package.swift: {name} declares {label} but nothing in {directory} imports it")
    for label, modules in sorted(products.items()):
        if not modules & set(used):
            problems.append(f"Package.swift: {name} declares {label} but nothing in {directory} imports it")

for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    print(f"check-dependencies: {len(problems)} problem(s) in {len(declared)} targets", file=sys.stderr)
    sys.exit(1)
print(f"check-dependencies: {len(declared)} targets, every import declared and every dependency imported")
PYTHON
