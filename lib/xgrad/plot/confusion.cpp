#include "xgrad/plot/confusion.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <plplot/plplot.h>
#include <plplot/plstream.h>

#include "xgrad/core/error.hpp"
#include "xgrad/plot/figure.hpp"
#include "xgrad/train/model.hpp"

namespace xg {
namespace {

// Index of the largest of `width` values at `row`.
std::size_t row_argmax(const float* row, std::size_t width) {
    return static_cast<std::size_t>(std::max_element(row, row + width) - row);
}

std::string class_label(const std::vector<std::string>& names, std::size_t c) {
    return names.empty() ? std::to_string(c) : names[c];
}

void check_names(const std::vector<std::string>& names, std::size_t classes, const char* call) {
    if (!names.empty() && names.size() != classes) {
        throw ValueError(fmt::format("{}: {} class names for {} classes; expected one name per class", call, names.size(), classes));
    }
}

}  // namespace

Classification classify(Model& model, const Dataset& data, std::size_t batch_size) {
    if (batch_size == 0) throw ValueError("classify: batch_size is 0; expected at least 1");
    if (data.size() == 0) throw ValueError("classify: no samples; expected at least one");
    Classification result;
    result.true_labels.reserve(data.size());
    result.predicted_labels.reserve(data.size());
    Array x, y;
    for (std::size_t start = 0; start < data.size(); start += batch_size) {
        const std::size_t count = std::min(batch_size, data.size() - start);
        std::vector<std::size_t> rows(count);
        std::iota(rows.begin(), rows.end(), start);
        data.gather(rows, x, y);
        const Array out = model.predict(x, batch_size);
        const std::size_t width = out.size() / count;
        const std::size_t y_width = y.size() / count;
        if (start == 0) {
            result.classes = width == 1 ? 2 : width;
            if (y_width > 1 && y_width != width) {
                throw ShapeError(fmt::format("classify: targets {} and outputs {} disagree; expected one-hot targets as wide "
                                             "as the outputs", format_shape(y.shape()), format_shape(out.shape())));
            }
        }
        for (std::size_t i = 0; i < count; ++i) {
            const float* o = out.data() + i * width;
            const float* t = y.data() + i * y_width;
            result.predicted_labels.push_back(width == 1 ? (o[0] > 0.5f ? 1 : 0) : row_argmax(o, width));
            if (y_width > 1) {
                result.true_labels.push_back(row_argmax(t, y_width));
            } else {
                const float label = width == 1 ? (t[0] > 0.5f ? 1.0f : 0.0f) : t[0];
                if (!(label >= 0.0f && label < static_cast<float>(result.classes)) || label != std::floor(label)) {
                    throw ValueError(fmt::format("classify: sample {} has label {}; expected a class in [0, {})", start + i, label,
                                                 result.classes));
                }
                result.true_labels.push_back(static_cast<std::size_t>(label));
            }
        }
    }
    return result;
}

std::size_t ConfusionMatrix::total() const { return std::accumulate(counts.begin(), counts.end(), std::size_t{0}); }

double ConfusionMatrix::accuracy() const {
    std::size_t right = 0;
    for (std::size_t c = 0; c < classes; ++c) right += (*this)(c, c);
    const std::size_t all = total();
    return all == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(all);
}

std::string ConfusionMatrix::table(const std::vector<std::string>& class_names) const {
    check_names(class_names, classes, "ConfusionMatrix::table");
    std::size_t cell = 1, label = std::string("true \\ predicted").size();
    for (std::size_t c = 0; c < classes; ++c) cell = std::max(cell, class_label(class_names, c).size());
    for (std::size_t v : counts) cell = std::max(cell, std::to_string(v).size());
    std::string out = fmt::format("{:<{}}", "true \\ predicted", label);
    for (std::size_t c = 0; c < classes; ++c) out += fmt::format(" {:>{}}", class_label(class_names, c), cell);
    out += '\n';
    for (std::size_t t = 0; t < classes; ++t) {
        out += fmt::format("{:<{}}", class_label(class_names, t), label);
        for (std::size_t p = 0; p < classes; ++p) out += fmt::format(" {:>{}}", (*this)(t, p), cell);
        out += '\n';
    }
    return out;
}

std::ostream& operator<<(std::ostream& out, const ConfusionMatrix& matrix) { return out << matrix.table(); }

ConfusionMatrix confusion_matrix(const std::vector<std::size_t>& true_labels, const std::vector<std::size_t>& predicted_labels,
                                 std::size_t classes) {
    if (classes == 0) throw ValueError("confusion_matrix: 0 classes; expected at least 1");
    if (true_labels.size() != predicted_labels.size()) {
        throw ValueError(fmt::format("confusion_matrix: {} true labels and {} predicted labels; expected as many of each",
                                     true_labels.size(), predicted_labels.size()));
    }
    ConfusionMatrix m{classes, std::vector<std::size_t>(classes * classes, 0)};
    for (std::size_t i = 0; i < true_labels.size(); ++i) {
        const std::size_t t = true_labels[i], p = predicted_labels[i];
        if (t >= classes || p >= classes) {
            throw ValueError(fmt::format("confusion_matrix: sample {} has labels (true {}, predicted {}); expected classes in "
                                         "[0, {})", i, t, p, classes));
        }
        ++m.counts[t * classes + p];
    }
    return m;
}

ConfusionMatrix confusion_matrix(const Classification& c) {
    return confusion_matrix(c.true_labels, c.predicted_labels, c.classes);
}

ConfusionMatrix confusion_matrix(Model& model, const Dataset& data, std::size_t batch_size) {
    return confusion_matrix(classify(model, data, batch_size));
}

void plot_confusion_matrix(const ConfusionMatrix& matrix, const std::string& path, const ConfusionPlotOptions& options) {
    constexpr const char* call = "plot_confusion_matrix";
    check_figure_path(path, call);
    const std::size_t k = matrix.classes;
    if (k == 0 || matrix.counts.size() != k * k) {
        throw ValueError(fmt::format("{}: matrix of {} classes holds {} counts; expected classes > 0 and classes^2 counts", call,
                                     k, matrix.counts.size()));
    }
    check_names(options.class_names, k, call);
    const double top = static_cast<double>(std::max<std::size_t>(1, *std::max_element(matrix.counts.begin(), matrix.counts.end())));

    Figure figure(path, options.width, options.height, call);
    plstream& pls = figure.pls();
    // White to dark blue (matplotlib's "Blues" ends).
    const PLFLT at[2] = {0.0, 1.0}, r[2] = {1.0, 0.03}, g[2] = {1.0, 0.19}, b[2] = {1.0, 0.42};
    pls.scmap1n(256);
    pls.scmap1l(true, 2, at, r, g, b, nullptr);
    pls.adv(0);
    pls.vpor(0.14, 0.94, 0.14, 0.90);
    pls.wind(0.0, static_cast<PLFLT>(k), 0.0, static_cast<PLFLT>(k));
    // One filled square per cell (vector output stays sharp at any size); true class 0 at the top, as in a printed table.
    for (std::size_t t = 0; t < k; ++t) {
        for (std::size_t p = 0; p < k; ++p) {
            const PLFLT x0 = static_cast<PLFLT>(p), y0 = static_cast<PLFLT>(k - 1 - t);
            const PLFLT xs[4] = {x0, x0 + 1, x0 + 1, x0}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
            pls.col1(static_cast<PLFLT>(matrix(t, p)) / top);
            pls.fill(4, xs, ys);
        }
    }
    pls.col0(figure_color::text);
    pls.box("bc", 1.0, 1, "bc", 1.0, 1);

    const double cell_points = std::min(0.80 * options.width, 0.76 * options.height) / static_cast<double>(k);
    const double count_points = std::clamp(cell_points * 0.28, 3.0, 12.0);
    figure.set_text_height(count_points);
    for (std::size_t t = 0; t < k; ++t) {
        for (std::size_t p = 0; p < k; ++p) {
            const std::size_t n = matrix(t, p);
            // Light text on the dark half of the map.
            pls.col0(static_cast<double>(n) > 0.5 * top ? figure_color::background : figure_color::text);
            const std::string text = std::to_string(n);
            pls.ptex(static_cast<PLFLT>(p) + 0.5, static_cast<PLFLT>(k - 1 - t) + 0.5 - 0.15, 1.0, 0.0, 0.5, text.c_str());
        }
    }
    pls.col0(figure_color::text);
    figure.set_text_height(std::min(12.0, count_points * 1.1));
    for (std::size_t c = 0; c < k; ++c) {
        const std::string name = class_label(options.class_names, c);
        const double at_c = (static_cast<double>(c) + 0.5) / static_cast<double>(k);
        pls.mtex("b", 1.5, at_c, 0.5, name.c_str());
        pls.mtex("lv", 0.7, 1.0 - at_c - 0.15 / static_cast<double>(k), 1.0, name.c_str());
    }
    figure.set_text_height(12.0);
    pls.mtex("b", 3.4, 0.5, 0.5, "Predicted label");
    pls.mtex("l", 4.0, 0.5, 0.5, "True label");
    const std::string title = fmt::format("{} (accuracy {:.4f})", options.title, matrix.accuracy());
    pls.mtex("t", 1.5, 0.5, 0.5, title.c_str());
    figure.save();
}

}  // namespace xg
