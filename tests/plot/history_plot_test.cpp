#include "xgrad/plot/history_plot.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <doctest/doctest.h>

#include "../io/scratch_dir.hpp"
#include "figure_file.hpp"
#include "xgrad/core/error.hpp"

using namespace xg;
using xg::test::ScratchDir;

namespace {

History sample_history(std::size_t epochs, bool validation) {
    History h;
    for (std::size_t e = 0; e < epochs; ++e) {
        const double t = static_cast<double>(e);
        Logs logs = {{"loss", 0.3 / (1.0 + t) + 0.01 * std::sin(t)}, {"accuracy", 0.9 + 0.08 * (1.0 - std::exp(-t))}};
        if (validation) {
            logs.emplace_back("val_loss", 0.2 - 0.05 * t + 0.012 * t * t);
            logs.emplace_back("val_accuracy", 0.93 + 0.02 * std::sqrt(t));
        }
        h.add(logs, 1.0);
    }
    return h;
}

const std::string training_rgb = test::cairo_rgb(31, 119, 180);
const std::string validation_rgb = test::cairo_rgb(255, 127, 14);

// Checks that ys are an affine image of values (ys = a + b * values) to within 0.1 units (PLplot
// rounds to 1/32 of a point); returns b.
double affine_slope(const std::vector<double>& ys, const std::vector<double>& values) {
    REQUIRE(ys.size() == values.size());
    REQUIRE(ys.size() >= 3);
    const std::size_t lo = std::min_element(values.begin(), values.end()) - values.begin();
    const std::size_t hi = std::max_element(values.begin(), values.end()) - values.begin();
    const double b = (ys[hi] - ys[lo]) / (values[hi] - values[lo]);
    const double a = ys[lo] - b * values[lo];
    for (std::size_t i = 0; i < ys.size(); ++i) CHECK(std::abs(ys[i] - (a + b * values[i])) < 0.1);
    return b;
}

}  // namespace

TEST_CASE("plot_history writes SVG, PNG and PDF pages of the asked size") {
    ScratchDir dir;
    const History h = sample_history(7, true);
    const HistoryPlotOptions options{.width = 900, .height = 360};
    plot_history(h, dir / "curves.png", options);
    plot_history(h, dir / "curves.pdf", options);
    plot_history(h, dir / "curves.svg", options);
    plot_history(h, dir / "upper.SVG", options);
    const auto png = test::png_size(test::read_bytes(dir / "curves.png"));
    CHECK(png.width == 900);
    CHECK(png.height == 360);
    const auto pdf = test::pdf_page_size(test::read_bytes(dir / "curves.pdf"));
    CHECK(pdf.width == 900);
    CHECK(pdf.height == 360);
    const auto svg = test::svg_size(test::read_bytes(dir / "curves.svg"));
    CHECK(svg.width == 900);
    CHECK(svg.height == 360);
    // Only the figures: the temporary files were renamed or removed.
    CHECK(dir.entries() == std::vector<std::string>{"curves.pdf", "curves.png", "curves.svg", "upper.SVG"});
}

TEST_CASE("plot_history draws the history's values: validation as a line, training as points on the same axes") {
    ScratchDir dir;
    const std::size_t n = 6;
    const History h = sample_history(n, true);
    plot_history(h, dir / "curves.svg");
    const std::string svg = test::read_bytes(dir / "curves.svg");

    // One validation line of n vertices per panel (the legend's sample line has 2).
    std::vector<std::vector<std::array<double, 2>>> lines;
    for (auto& path : test::svg_stroked_paths(svg, validation_rgb)) {
        if (path.size() == n) lines.push_back(path);
    }
    REQUIRE(lines.size() == 2);
    std::sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return a[0][0] < b[0][0]; });
    const std::vector<std::string> keys = {"loss", "accuracy"};
    const auto glyphs = test::svg_glyphs(svg, training_rgb);
    CHECK(glyphs.size() == 2 * n + 2);  // the points, and one in each legend
    for (std::size_t p = 0; p < 2; ++p) {
        CAPTURE(keys[p]);
        const auto& line = lines[p];
        std::vector<double> xs, ys;
        for (auto [x, y] : line) {
            xs.push_back(x);
            ys.push_back(y);
        }
        // Epochs are evenly spaced left to right.
        for (std::size_t i = 1; i < n; ++i) CHECK(std::abs((xs[i] - xs[i - 1]) - (xs[1] - xs[0])) < 0.1);
        CHECK(xs[1] > xs[0]);
        // The line's heights are the validation values through one affine map, larger values higher up.
        const double val_slope = affine_slope(ys, h["val_" + keys[p]]);
        CHECK(val_slope > 0);

        // Training points: one glyph per epoch at a fixed offset from the line's x (the glyph's origin).
        std::vector<double> point_ys;
        for (const auto& candidate : glyphs) {
            // The glyph's origin is left of its centre by less than half an epoch.
            const double offset = candidate[0] - xs[0];
            if (std::abs(offset) > (xs[1] - xs[0]) / 2) continue;
            std::vector<double> found;
            for (std::size_t i = 0; i < n; ++i) {
                for (const auto& g : glyphs) {
                    if (std::abs(g[0] - (xs[i] + offset)) < 0.1) {
                        found.push_back(g[1]);
                        break;
                    }
                }
            }
            if (found.size() == n) {
                point_ys = found;
                break;
            }
        }
        REQUIRE(point_ys.size() == n);
        // SVG glyph positions count y downwards; the scale must be the validation line's.
        const double train_slope = affine_slope(point_ys, h[keys[p]]);
        CHECK(-train_slope == doctest::Approx(val_slope).epsilon(1e-3));
    }
}

TEST_CASE("plot_history draws training alone, and the loss alone without the metric") {
    ScratchDir dir;
    const std::size_t n = 5;
    plot_history(sample_history(n, false), dir / "train_only.svg");
    const std::string svg = test::read_bytes(dir / "train_only.svg");
    for (auto& path : test::svg_stroked_paths(svg, validation_rgb)) CHECK(path.size() != n);
    CHECK(test::svg_glyphs(svg, training_rgb).size() == 2 * n + 2);

    plot_history(sample_history(n, true), dir / "loss_only.svg", {.metric = "auc"});
    CHECK(test::svg_glyphs(test::read_bytes(dir / "loss_only.svg"), training_rgb).size() == n + 1);

    History one;
    one.add({{"loss", 0.5}, {"val_loss", 0.6}}, 1.0);
    plot_history(one, dir / "one.png", {.width = 500, .height = 300});
    CHECK(test::png_size(test::read_bytes(dir / "one.png")).width == 500);
}

TEST_CASE("plot_history rejects bad input with a clear error and writes nothing") {
    ScratchDir dir;
    const History h = sample_history(3, true);
    CHECK_THROWS_WITH_AS(plot_history(History{}, dir / "a.png"), doctest::Contains("history has no 'loss' values"), ValueError);
    CHECK_THROWS_WITH_AS(plot_history(h, dir / "missing/a.png"), doctest::Contains("does not exist"), IoError);
    CHECK_THROWS_WITH_AS(plot_history(h, dir / "a.jpg"), doctest::Contains("unknown figure format '.jpg'"), ValueError);
    CHECK_THROWS_WITH_AS(plot_history(h, dir / "noext"), doctest::Contains("no extension"), ValueError);
    CHECK_THROWS_AS(plot_history(h, "", {}), ValueError);
    CHECK_THROWS_WITH_AS(plot_history(h, dir / "a.png", {.width = 0}), doctest::Contains("figure size 0 x 400"), ValueError);
    History bad = h;
    bad.values["val_loss"][1] = std::nan("");
    CHECK_THROWS_WITH_AS(plot_history(bad, dir / "a.png"), doctest::Contains("'val_loss' is not finite at epoch 1"), ValueError);
    History ragged = h;
    ragged.values["accuracy"].pop_back();
    CHECK_THROWS_WITH_AS(plot_history(ragged, dir / "a.png"), doctest::Contains("'accuracy' has 2 values"), ValueError);
    CHECK(dir.entries().empty());
    // A failed call leaves PLplot usable.
    plot_history(h, dir / "after.png");
    CHECK(test::png_size(test::read_bytes(dir / "after.png")).width == 1000);
}

TEST_CASE("plot_history replaces an existing figure whole") {
    ScratchDir dir;
    test::write_bytes(dir / "curves.png", "old");
    plot_history(sample_history(4, true), dir / "curves.png");
    CHECK(test::png_size(test::read_bytes(dir / "curves.png")).height == 400);
    CHECK(dir.entries() == std::vector<std::string>{"curves.png"});
}
