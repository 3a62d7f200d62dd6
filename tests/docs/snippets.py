#!/usr/bin/env python3
"""Writes one C++ file that compiles every ```cpp block of the given Markdown files with
#include <xgrad/xgrad.hpp> as the only xgrad include, so a snippet of the docs that stops
compiling breaks the build, with the error reported at its line in the Markdown file.

Usage: snippets.py SOURCE_ROOT OUTPUT.cpp FILE.md...

Each file's blocks share one namespace, in order (a later block may use what an earlier one
defined). A block is compiled at namespace scope unless an HTML comment just above its fence
says otherwise, one directive per line:

    <!-- compile
    mode: function            the block is statements: it becomes the body of a function
    mode: continue            the block continues the one before (a class split by prose)
    context: CODE             a line compiled at namespace scope before the block
    before: CODE              a line compiled just before the block (in the function, for mode: function)
    after: CODE               a line compiled after the block
    copied-from: PATH         the block is a verbatim excerpt of PATH (from the source root)
    -->

context/before/after lines declare only what the surrounding text assumes (a variable the prose
introduced earlier, the rest of a class); they may not include headers. Nothing at namespace
scope may need dynamic initialization (an xg::Array there would allocate from the buffer pool
before the library's own statics exist): such context goes in a function. Standard library
includes in a block are moved to the top of the file; any other include except
<xgrad/xgrad.hpp> is an error: the docs teach that one header is enough.
"""
import os
import re
import sys

FENCE = re.compile(r"^(?P<indent>[ \t]*)```cpp[ \t]*$")
DIRECTIVE = re.compile(r"^(mode|context|before|after|copied-from):\s?(.*)$")
INCLUDE = re.compile(r"^\s*#\s*include\s*([<\"])([^>\"]+)[>\"]")


class SnippetError(Exception):
    pass


def directives_above(lines, fence):
    """The directives of the <!-- compile ... --> comment that ends on the line above `fence`."""
    end = fence - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 0 or not lines[end].strip().endswith("-->"):
        return []
    start = end
    while start >= 0 and "<!--" not in lines[start]:
        start -= 1
    if start < 0 or lines[start].strip() != "<!-- compile":
        return []
    found = []
    for number in range(start + 1, end):
        text = lines[number].strip()
        if not text:
            continue
        match = DIRECTIVE.match(text)
        if not match:
            raise SnippetError(f"line {number + 1}: unknown directive '{text}'; expected mode:, context:, "
                               "before:, after: or copied-from:")
        found.append((match.group(1), match.group(2)))
    return found


def blocks(path):
    """(first line number, code lines, directives) for each ```cpp block of a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    result = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent = match.group("indent")
        directives = directives_above(lines, i)
        body = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise SnippetError(f"line {i + 1}: a ```cpp block that never ends")
        result.append((i + 2, body, directives))
        i = j + 1
    return result


def quoted(path):
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(root, markdown_files):
    includes = {"<xgrad/xgrad.hpp>"}
    out = []
    count = 0
    for md in markdown_files:
        rel = os.path.relpath(md, root)
        namespace = "doc_" + re.sub(r"\W", "_", rel)
        out.append(f"namespace {namespace} {{")
        pending_after = []
        open_function = False
        for index, (first_line, body, directives) in enumerate(blocks(md)):
            where = f"{rel}:{first_line - 1}"
            mode = "namespace"
            context, before, after = [], [], []
            for key, value in directives:
                if key == "mode":
                    if value not in ("function", "namespace", "continue"):
                        raise SnippetError(f"{where}: mode '{value}'; expected function, namespace or continue")
                    mode = value
                elif key == "context":
                    context.append(value)
                elif key == "before":
                    before.append(value)
                elif key == "after":
                    after.append(value)
                else:
                    excerpt = os.path.join(root, value)
                    with open(excerpt, encoding="utf-8") as f:
                        if "\n".join(body) + "\n" not in f.read():
                            raise SnippetError(f"{where}: the block is not a verbatim excerpt of {value}")
            for extra in context + before + after:
                if INCLUDE.match(extra):
                    raise SnippetError(f"{where}: a context:, before: or after: line may not include a header")
            if mode != "continue":
                out.extend(pending_after)
                if open_function:
                    out.append("}")
                pending_after, open_function = [], False
            elif index == 0:
                raise SnippetError(f"{where}: mode: continue on the first block")
            if context and mode == "continue":
                raise SnippetError(f"{where}: context: inside a block that continues another")
            out.extend(context)
            if mode == "function":
                out.append(f"[[maybe_unused]] void snippet_{first_line}() {{")
                open_function = True
            out.extend(before)
            out.append(f"#line {first_line} {quoted(rel)}")
            for number, line in enumerate(body):
                match = INCLUDE.match(line)
                if match:
                    name = match.group(2)
                    if name != "xgrad/xgrad.hpp" and (match.group(1) != "<" or "/" in name or "." in name):
                        raise SnippetError(f"{rel}:{first_line + number}: #include of {name}; the docs use "
                                           "only <xgrad/xgrad.hpp> and the standard library")
                    includes.add(f"<{name}>")
                    line = ""
                out.append(line)
            pending_after = after + pending_after if mode == "continue" else after
            count += 1
        out.extend(pending_after)
        if open_function:
            out.append("}")
        out.append(f"}}  // namespace {namespace}")
    head = ["// Generated by tests/docs/snippets.py from the Markdown files of the docs: do not edit."]
    head += [f"#include {name}" for name in sorted(includes, key=lambda n: n != "<xgrad/xgrad.hpp>")]
    tail = ["", "#include <cstdio>", "",
            f"int main() {{ std::printf(\"%d snippets of the docs compiled with <xgrad/xgrad.hpp>\\n\", {count}); }}"]
    return "\n".join(head + [""] + out + tail) + "\n"


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: snippets.py SOURCE_ROOT OUTPUT.cpp FILE.md...")
    root, output, markdown_files = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        text = generate(root, markdown_files)
    except (SnippetError, OSError) as e:
        sys.exit(f"snippets.py: {e}")
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
