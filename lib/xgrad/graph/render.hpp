#pragma once
// Laying out and rendering DOT text with the Graphviz library, in process. Graphviz keeps
// global state, so every call holds one process-wide lock around one shared context.
#include <string>

namespace xg {

/// The bytes of `dot` laid out by Graphviz's dot engine and rendered as "svg", "png" or "pdf"; ValueError for bad DOT or format, IoError if Graphviz fails.
std::string render_graph(const std::string& dot, const std::string& format);

/// Writes `dot` to `path` chosen by extension: .dot/.gv as text, .svg/.png/.pdf rendered; ValueError for other extensions or bad DOT, IoError on failure.
void write_graph(const std::string& dot, const std::string& path);

}  // namespace xg
