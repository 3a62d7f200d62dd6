#include "xgrad/plot/sample_grid.hpp"

#include <cmath>
#include <set>

#include <doctest/doctest.h>

#include "../io/scratch_dir.hpp"
#include "figure_file.hpp"
#include "xgrad/core/error.hpp"

using namespace xg;
using xg::test::ScratchDir;

namespace {

// n images of h x w: a bar whose position tells the image apart.
Array bars(std::size_t n, std::size_t h, std::size_t w) {
    Array a = xt::zeros<float>({n, h, w});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t y = 0; y < h; ++y) a(i, y, i % w) = 1.0f;
    }
    return a;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t found = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++found;
    return found;
}

const std::string error_rgb = test::cairo_rgb(214, 39, 40);

}  // namespace

TEST_CASE("sample_grid_size lays images out in rows of up to 6 cells") {
    CHECK(sample_grid_size(36) == std::pair<int, int>{660, 792});
    CHECK(sample_grid_size(4) == std::pair<int, int>{440, 132});
    CHECK(sample_grid_size(7, {.columns = 3, .cell_size = 100, .title = "t"}) == std::pair<int, int>{300, 360 + 36});
    CHECK(sample_grid_size(7, {.width = 500, .height = 200}) == std::pair<int, int>{500, 200});
}

TEST_CASE("plot_samples writes every format at the size the grid needs") {
    ScratchDir dir;
    const Array images = bars(8, 12, 12);
    const std::vector<std::size_t> truth = {0, 1, 2, 3, 4, 5, 6, 7}, predicted = {0, 1, 2, 9, 4, 5, 1, 7};
    const SampleGridOptions options{.columns = 4, .cell_size = 90, .title = "Errors"};
    const auto [width, height] = sample_grid_size(8, options);
    CHECK(width == 360);
    for (const char* name : {"g.png", "g.pdf", "g.svg"}) plot_samples(images, truth, predicted, dir / name, options);
    const auto png = test::png_size(test::read_bytes(dir / "g.png"));
    CHECK((png.width == width && png.height == height));
    const auto pdf = test::pdf_page_size(test::read_bytes(dir / "g.pdf"));
    CHECK((pdf.width == width && pdf.height == height));
    const auto svg = test::svg_size(test::read_bytes(dir / "g.svg"));
    CHECK((svg.width == width && svg.height == height));
}

TEST_CASE("plot_samples draws one image per sample and frames the misclassified ones in red") {
    ScratchDir dir;
    const Array images = bars(5, 10, 10);
    const std::vector<std::size_t> truth = {0, 1, 2, 3, 4};
    plot_samples(images, truth, {0, 1, 2, 3, 4}, dir / "right.svg");
    plot_samples(images, truth, {0, 7, 2, 3, 1}, dir / "two_wrong.svg");
    plot_samples(images, truth, {}, dir / "labels_only.svg");
    const std::string right = test::read_bytes(dir / "right.svg"), wrong = test::read_bytes(dir / "two_wrong.svg");
    CHECK(count(right, "<image ") == 5);
    CHECK(count(wrong, "<image ") == 5);
    CHECK(count(test::read_bytes(dir / "labels_only.svg"), "<image ") == 5);
    CHECK(test::svg_stroked_paths(right, error_rgb).empty());
    const auto frames = test::svg_stroked_paths(wrong, error_rgb);
    CHECK(!frames.empty());
    // The red lines lie on two frames: two distinct left edges.
    std::set<long> lefts;
    for (const auto& path : frames) {
        for (auto [x, y] : path) lefts.insert(std::lround(x));
    }
    CHECK(lefts.size() == 4);  // each frame's left and right edges
}

TEST_CASE("plot_samples takes the layouts single-channel images come in") {
    ScratchDir dir;
    const std::vector<std::size_t> labels = {1, 2};
    CHECK_NOTHROW(plot_samples(bars(2, 6, 8), labels, labels, dir / "a.png"));
    CHECK_NOTHROW(plot_samples(xt::zeros<float>({2, 6, 8, 1}), labels, labels, dir / "b.png"));
    CHECK_NOTHROW(plot_samples(xt::zeros<float>({2, 1, 6, 8}), labels, labels, dir / "c.png"));
    CHECK_NOTHROW(plot_samples(xt::zeros<float>({2, 784}), labels, labels, dir / "d.png"));
    CHECK_NOTHROW(plot_samples(255.0f * bars(2, 6, 8), labels, labels, dir / "e.png", {.class_names = {"x", "y", "z"}}));
}

TEST_CASE("plot_samples rejects bad input") {
    ScratchDir dir;
    const std::vector<std::size_t> labels = {1, 2};
    CHECK_THROWS_WITH_AS(plot_samples(xt::zeros<float>({2, 3, 6, 8}), labels, labels, dir / "a.png"),
                         doctest::Contains("images have shape (2, 3, 6, 8)"), ShapeError);
    CHECK_THROWS_AS(plot_samples(xt::zeros<float>({2, 785}), labels, labels, dir / "a.png"), ShapeError);
    CHECK_THROWS_WITH_AS(plot_samples(xt::zeros<float>({0, 6, 6}), {}, {}, dir / "a.png"), doctest::Contains("no images"),
                         ValueError);
    CHECK_THROWS_WITH_AS(plot_samples(bars(2, 6, 6), {1}, labels, dir / "a.png"), doctest::Contains("2 images, 1 true"), ValueError);
    CHECK_THROWS_WITH_AS(plot_samples(bars(2, 6, 6), labels, labels, dir / "a.png", {.class_names = {"x"}}),
                         doctest::Contains("label 1 has no name"), ValueError);
    CHECK_THROWS_AS(plot_samples(bars(2, 6, 6), labels, labels, dir / "a.tiff"), ValueError);
    CHECK_THROWS_AS(plot_samples(bars(2, 6, 6), labels, labels, dir / "none/a.png"), IoError);
    CHECK_THROWS_AS(plot_samples(bars(2, 6, 6), labels, labels, dir / "a.png", {.value_range = std::pair{1.0f, 1.0f}}),
                    ValueError);
    CHECK(dir.entries().empty());
}
