#pragma once
// Independent readers for the figures' files: the PNG signature and IHDR size, the PDF header
// and MediaBox, the SVG root's size and the marks a cairo SVG draws (glyphs placed by <use>
// inside a <g> of one fill colour, lines as <path> of one stroke colour).
#include <array>
#include <cmath>
#include <cstdint>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace xg::test {

struct PixelSize {
    long width = 0, height = 0;
};

/// The size in the IHDR chunk of a PNG; throws unless `bytes` starts with a PNG signature and IHDR.
inline PixelSize png_size(const std::string& bytes) {
    static const std::string signature = "\x89PNG\r\n\x1a\n";
    if (bytes.size() < 24 || bytes.compare(0, 8, signature) != 0 || bytes.compare(12, 4, "IHDR") != 0) {
        throw std::runtime_error("not a PNG");
    }
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
        return static_cast<long>(v);
    };
    return {be32(16), be32(20)};
}

/// The first page's MediaBox of a PDF (in points); throws unless `bytes` starts with "%PDF-" and ends with %%EOF.
inline PixelSize pdf_page_size(const std::string& bytes) {
    if (bytes.rfind("%PDF-", 0) != 0 || bytes.find("%%EOF") == std::string::npos) throw std::runtime_error("not a PDF");
    std::smatch m;
    static const std::regex media_box(R"re(/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\])re");
    if (!std::regex_search(bytes, m, media_box)) throw std::runtime_error("PDF without MediaBox");
    return {std::lround(std::stod(m[1])), std::lround(std::stod(m[2]))};
}

/// The width and height attributes of an SVG's root element (in its units, "pt" for cairo).
inline PixelSize svg_size(const std::string& text) {
    if (text.find("<svg") == std::string::npos || text.find("</svg>") == std::string::npos) throw std::runtime_error("not an SVG");
    std::smatch m;
    static const std::regex root(R"re(<svg[^>]*\swidth="([0-9.]+)(pt|px)?"[^>]*\sheight="([0-9.]+)(pt|px)?")re");
    if (!std::regex_search(text, m, root)) throw std::runtime_error("SVG without width and height");
    return {std::lround(std::stod(m[1])), std::lround(std::stod(m[3]))};
}

/// A colour as cairo writes it in SVG styles: "rgb(12.156863%,46.666667%,70.588235%)" for (31, 119, 180).
inline std::string cairo_rgb(int r, int g, int b) {
    auto pct = [](int v) {
        std::string s = std::to_string(v * 100.0 / 255.0);
        // cairo prints at most six decimals and drops trailing zeros ("100%", "0%").
        s = s.substr(0, s.find('.') + 7);
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s + "%";
    };
    return "rgb(" + pct(r) + "," + pct(g) + "," + pct(b) + ")";
}

/// Positions (x, y) of the glyphs drawn in fill colour `rgb` (as cairo_rgb writes it), in document order.
inline std::vector<std::array<double, 2>> svg_glyphs(const std::string& text, const std::string& rgb) {
    std::vector<std::array<double, 2>> out;
    static const std::regex group(R"re(<g style="fill:([^;]+);[^"]*">\s*((?:<use [^>]*>\s*)+)</g>)re");
    static const std::regex use(R"re(<use [^>]*x="([-0-9.]+)" y="([-0-9.]+)")re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), group); it != std::sregex_iterator(); ++it) {
        if ((*it)[1] != rgb) continue;
        const std::string uses = (*it)[2];
        for (auto u = std::sregex_iterator(uses.begin(), uses.end(), use); u != std::sregex_iterator(); ++u) {
            out.push_back({std::stod((*u)[1]), std::stod((*u)[2])});
        }
    }
    return out;
}

/// The vertices of every path stroked in colour `rgb`, one list per path, in cairo's (y-up) path coordinates.
inline std::vector<std::vector<std::array<double, 2>>> svg_stroked_paths(const std::string& text, const std::string& rgb) {
    std::vector<std::vector<std::array<double, 2>>> out;
    static const std::regex path(R"re(<path style="[^"]*stroke:([^;]+);[^"]*" d="([^"]*)")re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), path); it != std::sregex_iterator(); ++it) {
        if ((*it)[1] != rgb) continue;
        std::istringstream d((*it)[2].str());
        std::vector<std::array<double, 2>> vertices;
        std::string op;
        double x = 0, y = 0;
        while (d >> op >> x >> y) {
            if (op != "M" && op != "L") break;
            vertices.push_back({x, y});
        }
        out.push_back(std::move(vertices));
    }
    return out;
}

}  // namespace xg::test
