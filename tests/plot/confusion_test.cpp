#include "xgrad/plot/confusion.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include <doctest/doctest.h>

#include "../io/scratch_dir.hpp"
#include "figure_file.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/train/model.hpp"

using namespace xg;
using xg::test::ScratchDir;

namespace {

// True 0..2 with a few confusions: counts (0,0)=3 (0,2)=1 (1,1)=2 (2,0)=1 (2,2)=5.
ConfusionMatrix sample_matrix() {
    return confusion_matrix({0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2}, {0, 0, 2, 0, 1, 1, 0, 2, 2, 2, 2, 2}, 3);
}

}  // namespace

TEST_CASE("confusion_matrix counts pairs of labels, rows true and columns predicted") {
    const ConfusionMatrix m = sample_matrix();
    CHECK(m.classes == 3);
    CHECK(m.counts == std::vector<std::size_t>{3, 0, 1, 0, 2, 0, 1, 0, 5});
    CHECK(m(0, 2) == 1);
    CHECK(m(2, 0) == 1);
    CHECK(m.total() == 12);
    CHECK(m.accuracy() == doctest::Approx(10.0 / 12.0));
    CHECK(m.table() ==
          "true \\ predicted 0 1 2\n"
          "0                3 0 1\n"
          "1                0 2 0\n"
          "2                1 0 5\n");
    std::ostringstream out;
    out << m;
    CHECK(out.str() == m.table());
    const std::string named = m.table({"cat", "dog", "emu"});
    CHECK(named.find("true \\ predicted cat dog emu\n") == 0);
    CHECK(named.find("\ncat                3   0   1\n") != std::string::npos);
    CHECK_THROWS_AS(m.table({"cat"}), ValueError);
}

TEST_CASE("confusion_matrix refuses labels it cannot count") {
    CHECK_THROWS_WITH_AS(confusion_matrix({0, 1}, {0}, 2), doctest::Contains("2 true labels and 1 predicted"), ValueError);
    CHECK_THROWS_WITH_AS(confusion_matrix({0, 3}, {0, 1}, 3), doctest::Contains("sample 1 has labels (true 3, predicted 1)"),
                         ValueError);
    CHECK_THROWS_AS(confusion_matrix({}, {}, 0), ValueError);
}

TEST_CASE("classify and confusion_matrix read a model's predictions over a dataset") {
    // A fixed linear model: class 0 for (1, 0), 1 for (0, 1), 2 for (-1, -1).
    auto net = std::make_shared<Sequential>();
    net->emplace<Dense>(2, 3, "softmax");
    net->parameters()[0].mutable_value() = Array{{2.0f, 0.0f, -1.0f}, {0.0f, 2.0f, -1.0f}};
    net->parameters()[1].mutable_value() = Array{0.0f, 0.0f, 0.0f};
    Model model(net);
    model.compile("sgd", "categorical_crossentropy", {"accuracy"});
    const Array x = {{1.0f, 0.0f}, {0.0f, 1.0f}, {-1.0f, -1.0f}, {1.0f, 0.1f}, {0.0f, 1.0f}};
    const Array y = {{1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}};
    const ArrayDataset data(x, y);
    const Classification c = classify(model, data, 2);  // batches of 2, 2 and 1
    CHECK(c.classes == 3);
    CHECK(c.true_labels == std::vector<std::size_t>{0, 1, 2, 1, 2});
    CHECK(c.predicted_labels == std::vector<std::size_t>{0, 1, 2, 0, 1});
    const ConfusionMatrix m = confusion_matrix(model, data);
    CHECK(m.counts == std::vector<std::size_t>{1, 0, 0, 1, 1, 0, 0, 1, 1});
    CHECK(m.accuracy() == doctest::Approx(model.evaluate(data)[1].second));

    const Array labels = {0.0f, 1.0f, 2.0f, 1.0f, 2.0f};
    CHECK(classify(model, ArrayDataset(x, labels)).true_labels == c.true_labels);
    const Array bad_labels = {0.0f, 1.0f, 7.0f, 1.0f, 2.0f};
    CHECK_THROWS_WITH_AS(classify(model, ArrayDataset(x, bad_labels)), doctest::Contains("sample 2 has label 7"), ValueError);
}

TEST_CASE("plot_confusion_matrix writes every format at the asked size") {
    ScratchDir dir;
    const ConfusionMatrix m = sample_matrix();
    const ConfusionPlotOptions options{.width = 420, .height = 400};
    plot_confusion_matrix(m, dir / "m.png", options);
    plot_confusion_matrix(m, dir / "m.pdf", options);
    plot_confusion_matrix(m, dir / "m.svg", options);
    const auto png = test::png_size(test::read_bytes(dir / "m.png"));
    CHECK((png.width == 420 && png.height == 400));
    const auto pdf = test::pdf_page_size(test::read_bytes(dir / "m.pdf"));
    CHECK((pdf.width == 420 && pdf.height == 400));
    const auto svg = test::svg_size(test::read_bytes(dir / "m.svg"));
    CHECK((svg.width == 420 && svg.height == 400));
}

TEST_CASE("plot_confusion_matrix shades each cell by its count, true class 0 at the top") {
    ScratchDir dir;
    const ConfusionMatrix m = sample_matrix();
    plot_confusion_matrix(m, dir / "m.svg");
    const std::string svg = test::read_bytes(dir / "m.svg");
    // Filled cells: the red share of their colour, by their lower-left corner (y up).
    static const std::regex cell(
        R"re(<path style="fill-rule:nonzero;fill:rgb\(([0-9.]+)%,[^"]*" d="M ([0-9.]+) ([0-9.]+) L ([0-9.]+) [0-9.]+ L [0-9.]+ ([0-9.]+) L)re");
    std::map<std::pair<double, double>, double> red;
    double x_step = 0, y_step = 0;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cell); it != std::sregex_iterator(); ++it) {
        const double x0 = std::stod((*it)[2]), y0 = std::stod((*it)[3]);
        red[{x0, y0}] = std::stod((*it)[1]) / 100.0;
        x_step = std::stod((*it)[4]) - x0;
        y_step = std::stod((*it)[5]) - y0;
    }
    REQUIRE(red.size() == 9);
    REQUIRE(x_step > 0);
    REQUIRE(y_step > 0);
    const double left = red.begin()->first.first;
    double bottom = red.begin()->first.second;
    for (auto& [corner, r] : red) bottom = std::min(bottom, corner.second);
    const double top = 5.0;  // the largest count
    for (auto& [corner, r] : red) {
        const auto p = static_cast<std::size_t>(std::lround((corner.first - left) / x_step));
        const auto t = 2 - static_cast<std::size_t>(std::lround((corner.second - bottom) / y_step));
        CAPTURE(t);
        CAPTURE(p);
        // White (1) for 0 down to 0.03 for the largest count, linearly (256 colour steps).
        CHECK(r == doctest::Approx(1.0 - 0.97 * static_cast<double>(m(t, p)) / top).epsilon(0.01));
    }
}

TEST_CASE("plot_confusion_matrix rejects bad input") {
    ScratchDir dir;
    CHECK_THROWS_AS(plot_confusion_matrix(ConfusionMatrix{}, dir / "m.png"), ValueError);
    CHECK_THROWS_AS(plot_confusion_matrix(sample_matrix(), dir / "m.bmp"), ValueError);
    CHECK_THROWS_AS(plot_confusion_matrix(sample_matrix(), dir / "none/m.png"), IoError);
    CHECK_THROWS_WITH_AS(plot_confusion_matrix(sample_matrix(), dir / "m.png", {.class_names = {"a", "b"}}),
                         doctest::Contains("2 class names for 3 classes"), ValueError);
    CHECK(dir.entries().empty());
}
