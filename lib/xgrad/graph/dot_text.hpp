#pragma once
// Pieces of DOT text. Every user-supplied name that goes into a graph is escaped here, once,
// for every graph writer (op view, layer view).
#include <string>
#include <string_view>

namespace xg {

/// `text` as a quoted DOT label Graphviz draws exactly as `text` (backslashes doubled, quotes escaped, newlines as "\n").
std::string dot_label(std::string_view text);

/// `text` for the inside of an HTML-like label (<...>): & < > " as entities, newlines as <BR/>.
std::string dot_html(std::string_view text);

/// `text` as a quoted DOT identifier of letters, digits and _ / . - only, other bytes as %XX (distinct texts stay distinct).
std::string dot_id(std::string_view text);

/// Throws ValueError naming `function` unless `rankdir` is a Graphviz layout direction: "TB", "LR", "BT" or "RL".
void check_rankdir(const std::string& rankdir, const char* function);

}  // namespace xg
