#include "xgrad/graph/dot_text.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

std::string dot_label(std::string_view text) {
    // Labels are Graphviz "escString"s: after the DOT parser has undone \" the renderer
    // reads \\ as one backslash and \n, \l, \r as line ends, and substitutes \N, \G, \E...
    // Doubling every backslash keeps all of those literal.
    std::string out = "\"";
    out.reserve(text.size() + 2);
    for (char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            case '\r': break;
            default: out += c;
        }
    }
    return out + '"';
}

std::string dot_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\n': out += "<BR/>"; break;
            case '\r': break;
            default: out += c;
        }
    }
    return out;
}

std::string dot_id(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        const bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' ||
                           b == '/' || b == '.' || b == '-';
        if (plain) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", b);
        }
    }
    return out + '"';
}

void check_rankdir(const std::string& rankdir, const char* function) {
    if (rankdir != "TB" && rankdir != "LR" && rankdir != "BT" && rankdir != "RL") {
        throw ValueError(fmt::format("{}: rankdir '{}'; expected TB, LR, BT or RL", function, rankdir));
    }
}

}  // namespace xg
