#include "xgrad/graph/render.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// Graphviz is not thread-safe (global error handler, lexer, plugin tables).
std::mutex graphviz_mutex;

// Graphviz reports problems through one global callback; while a render runs it appends
// them here instead of printing them to stderr.
std::string* graphviz_messages = nullptr;

int collect_message(char* message) {
    if (graphviz_messages) *graphviz_messages += message;
    return 0;
}

// "Error: syntax error in line 1 near '}'\n" -> "Error: syntax error in line 1 near '}'"
std::string one_line(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    for (char& c : text) {
        if (c == '\n') c = ' ';
    }
    return text.empty() ? "no message from Graphviz" : text;
}

// One context for the whole process, made on first use and never freed. Besides saving the
// plugin loading on every call, it sidesteps a Graphviz 2.42 bug: the pango plugin keeps a
// pointer to the last font name it measured, and gvFreeContext frees that name, so a render
// in a second context reads freed memory.
GVC_t* shared_context() {
    static GVC_t* gvc = nullptr;
    if (!gvc) gvc = gvContext();
    return gvc;
}

// Owns one render's Graphviz state and releases it in reverse order on every path.
class Render {
public:
    Render() : previous_handler_(agseterrf(collect_message)) {
        graphviz_messages = &messages_;
        agreseterrors();
        // The context must exist before the graph is read: it declares the default label.
        gvc_ = shared_context();
    }
    ~Render() {
        if (graph_) {
            if (laid_out_) gvFreeLayout(gvc_, graph_);
            agclose(graph_);
        }
        graphviz_messages = nullptr;
        agseterrf(previous_handler_);
    }
    Render(const Render&) = delete;
    Render& operator=(const Render&) = delete;

    std::string run(const std::string& dot, const std::string& format, const std::string& function,
                    const std::string& target) {
        if (!gvc_) {
            throw IoError(fmt::format("{}: Graphviz could not create a context for {} ({}); expected a working "
                                      "Graphviz library (Debian package libgvc6)",
                                      function, target, one_line(messages_)));
        }
        graph_ = agmemread(dot.c_str());
        if (!graph_) {
            throw ValueError(fmt::format("{}: Graphviz cannot parse the DOT text for {} ({}); expected a graph from "
                                         "ops_to_dot, layers_to_dot or other valid DOT",
                                         function, target, one_line(messages_)));
        }
        if (gvLayout(gvc_, graph_, "dot") != 0) {
            throw IoError(fmt::format("{}: Graphviz could not lay out the graph for {} ({}); expected the dot layout "
                                      "plugin of Graphviz (Debian package libgvc6)",
                                      function, target, one_line(messages_)));
        }
        laid_out_ = true;
        char* data = nullptr;
        unsigned int length = 0;
        if (gvRenderData(gvc_, graph_, format.c_str(), &data, &length) != 0 || data == nullptr) {
            if (data) gvFreeRenderData(data);
            throw IoError(fmt::format("{}: Graphviz could not render {} as {} ({}); expected its {} renderer (the cairo "
                                      "plugins of Debian package libgvc6)",
                                      function, target, format, one_line(messages_), format));
        }
        std::string bytes(data, length);
        gvFreeRenderData(data);
        return bytes;
    }

private:
    agusererrf previous_handler_;
    std::string messages_;
    GVC_t* gvc_ = nullptr;
    Agraph_t* graph_ = nullptr;
    bool laid_out_ = false;
};

std::string render_locked(const std::string& dot, const std::string& format, const std::string& function,
                          const std::string& target) {
    std::lock_guard lock(graphviz_mutex);
    Render render;
    return render.run(dot, format, function, target);
}

bool renderable(const std::string& format) { return format == "svg" || format == "png" || format == "pdf"; }

void write_file(const std::string& bytes, const std::string& path) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw IoError(fmt::format("write_graph: cannot open '{}' for writing ({}); expected a writable path", path,
                                  std::strerror(errno)));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        throw IoError(fmt::format("write_graph: writing '{}' failed ({}); expected room on its device", path,
                                  std::strerror(errno)));
    }
}

}  // namespace

std::string render_graph(const std::string& dot, const std::string& format) {
    if (!renderable(format)) {
        throw ValueError(fmt::format("render_graph: format '{}'; expected svg, png or pdf", format));
    }
    return render_locked(dot, format, "render_graph", format + " output");
}

void write_graph(const std::string& dot, const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".dot" || ext == ".gv") {
        write_file(dot, path);
        return;
    }
    const std::string format = ext.empty() ? ext : ext.substr(1);
    if (!renderable(format)) {
        throw ValueError(fmt::format("write_graph: '{}' has extension '{}'; expected .dot, .gv, .svg, .png or .pdf",
                                     path, ext));
    }
    write_file(render_locked(dot, format, "write_graph", "'" + path + "'"), path);
}

}  // namespace xg
