#include "xgrad/graph/render.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/graph/layer_graph.hpp"
#include "xgrad/graph/op_graph.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"

using namespace xg;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system's temporary directory, removed with its files afterwards.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / fmt::format("xgrad_graph_test_{:08x}{:08x}", rd(), rd());
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool is_svg(const std::string& bytes) { return bytes.starts_with("<?xml") || bytes.find("<svg") != std::string::npos; }
bool is_png(const std::string& bytes) { return bytes.starts_with("\x89PNG\r\n\x1a\n"); }
bool is_pdf(const std::string& bytes) { return bytes.starts_with("%PDF-"); }

std::string small_op_graph() {
    Tape::current().clear();
    Tensor x = input(xt::ones<float>({4, 3}), "x");
    Tensor w = parameter(xt::ones<float>({3, 2}), "dense/kernel");
    Tensor y;
    {
        ScopeGuard scope("dense");
        y = relu(matmul(x, w));
    }
    return ops_to_dot(sum(y));
}

}  // namespace

TEST_CASE("render_graph: SVG, PNG and PDF bytes from the op view") {
    const std::string dot = small_op_graph();
    const std::string svg = render_graph(dot, "svg");
    CHECK(is_svg(svg));
    CHECK(svg.find("dense/kernel (3, 2)") != std::string::npos);
    CHECK(svg.find("cluster_dense") != std::string::npos);
    CHECK(is_png(render_graph(dot, "png")));
    CHECK(is_pdf(render_graph(dot, "pdf")));
}

TEST_CASE("write_graph: the extension picks text, SVG, PNG or PDF") {
    TempDir dir;
    Sequential model;
    model.emplace<Dense>(784, 512, "relu");
    model.emplace<Dense>(512, 10, "softmax");
    const std::string ops = small_op_graph(), layers = layers_to_dot(model, {784});

    write_graph(ops, dir.file("ops.dot"));
    CHECK(read_all(dir.file("ops.dot")) == ops);
    write_graph(layers, dir.file("layers.gv"));
    CHECK(read_all(dir.file("layers.gv")) == layers);

    write_graph(ops, dir.file("ops.svg"));
    CHECK(is_svg(read_all(dir.file("ops.svg"))));
    write_graph(layers, dir.file("layers.svg"));
    const std::string svg = read_all(dir.file("layers.svg"));
    CHECK(is_svg(svg));
    CHECK(svg.find("(None, 512)") != std::string::npos);

    write_graph(ops, dir.file("ops.png"));
    CHECK(is_png(read_all(dir.file("ops.png"))));
    write_graph(layers, dir.file("LAYERS.PNG"));
    CHECK(is_png(read_all(dir.file("LAYERS.PNG"))));
    write_graph(layers, dir.file("layers.pdf"));
    CHECK(is_pdf(read_all(dir.file("layers.pdf"))));
}

TEST_CASE("write_graph: bad extensions and bad DOT are ValueError naming the file") {
    TempDir dir;
    const std::string dot = small_op_graph();
    CHECK_THROWS_AS(write_graph(dot, dir.file("graph.jpg")), ValueError);
    CHECK_THROWS_WITH(write_graph(dot, dir.file("graph.jpg")),
                      doctest::Contains("graph.jpg' has extension '.jpg'; expected .dot, .gv, .svg, .png or .pdf"));
    CHECK_THROWS_AS(write_graph(dot, dir.file("graph")), ValueError);
    CHECK_THROWS_AS(render_graph(dot, "bmp"), ValueError);
    CHECK_FALSE(fs::exists(dir.file("graph.jpg")));

    CHECK_THROWS_AS(write_graph("digraph { a -> }", dir.file("broken.svg")), ValueError);
    CHECK_THROWS_WITH(write_graph("digraph { a -> }", dir.file("broken.svg")),
                      doctest::Contains("broken.svg' (Error: syntax error in line 1"));
    CHECK_FALSE(fs::exists(dir.file("broken.svg")));
    // Graphviz's parser recovers: the next graph renders.
    CHECK(is_svg(render_graph(dot, "svg")));
}

TEST_CASE("write_graph: an unwritable path is IoError naming it") {
    TempDir dir;
    const std::string missing = dir.file("no/such/folder/graph.svg");
    CHECK_THROWS_AS(write_graph(small_op_graph(), missing), IoError);
    CHECK_THROWS_WITH(write_graph("digraph { a; }", dir.file("no/such/folder/graph.dot")),
                      doctest::Contains("no/such/folder/graph.dot' for writing"));
}

TEST_CASE("render_graph: threads may render at the same time") {
    const std::string dot = small_op_graph();
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 3; ++i) {
                if (is_svg(render_graph(dot, "svg")) && is_png(render_graph(dot, "png"))) ++good;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(good == 12);
}
