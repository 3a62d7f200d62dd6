#include "xgrad/plot/sample_grid.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <plplot/plplot.h>
#include <plplot/plstream.h>

#include "xgrad/core/error.hpp"
#include "xgrad/plot/figure.hpp"

namespace xg {
namespace {

constexpr const char* plot_samples_call = "plot_samples";
constexpr double caption_share = 0.2;  // of a cell's width, above its image
constexpr int title_height = 36;

std::size_t grid_columns(std::size_t count, const SampleGridOptions& options) {
    return options.columns > 0 ? options.columns : std::min<std::size_t>(std::max<std::size_t>(count, 1), 6);
}

// (height, width) of one image of a batch, accepting the layouts single-channel images come in.
std::pair<std::size_t, std::size_t> image_size(const Array& images) {
    const auto& s = images.shape();
    if (s.size() == 3) return {s[1], s[2]};
    if (s.size() == 4 && s[3] == 1) return {s[1], s[2]};
    if (s.size() == 4 && s[1] == 1) return {s[2], s[3]};
    if (s.size() == 2) {
        const auto side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(s[1]))));
        if (side * side == s[1] && side > 0) return {side, side};
    }
    throw ShapeError(fmt::format("{}: images have shape {}; expected (n, h, w), (n, h, w, 1), (n, 1, h, w) or (n, h*w) "
                                 "with h = w", plot_samples_call, format_shape(s)));
}

std::string label_text(const std::vector<std::string>& names, std::size_t label) {
    if (names.empty()) return std::to_string(label);
    if (label >= names.size()) {
        throw ValueError(fmt::format("{}: label {} has no name ({} class names); expected a label below {}", plot_samples_call, label,
                                     names.size(), names.size()));
    }
    return names[label];
}

}  // namespace

std::pair<int, int> sample_grid_size(std::size_t count, const SampleGridOptions& options) {
    const std::size_t columns = grid_columns(count, options);
    const std::size_t rows = (std::max<std::size_t>(count, 1) + columns - 1) / columns;
    const int width = options.width > 0 ? options.width : static_cast<int>(columns) * options.cell_size;
    const int height = options.height > 0
                           ? options.height
                           : static_cast<int>(std::lround(static_cast<double>(rows) * options.cell_size * (1.0 + caption_share))) +
                                 (options.title.empty() ? 0 : title_height);
    return {width, height};
}

void plot_samples(const Array& images, const std::vector<std::size_t>& true_labels,
                  const std::vector<std::size_t>& predicted_labels, const std::string& path, const SampleGridOptions& options) {
    check_figure_path(path, plot_samples_call);
    if (images.dimension() == 0 || images.shape()[0] == 0) {
        throw ValueError(fmt::format("{}: no images ({}); expected at least one", plot_samples_call, format_shape(images.shape())));
    }
    const auto [h, w] = image_size(images);
    const std::size_t n = images.shape()[0];
    if (true_labels.size() != n || (!predicted_labels.empty() && predicted_labels.size() != n)) {
        throw ValueError(fmt::format("{}: {} images, {} true and {} predicted labels; expected one label of each per image "
                                     "(or no predicted labels)", plot_samples_call, n, true_labels.size(), predicted_labels.size()));
    }
    if (options.cell_size < 16) throw ValueError(fmt::format("{}: cell_size {}; expected at least 16", plot_samples_call, options.cell_size));
    float lo = 0.0f, hi = 1.0f;
    if (options.value_range) {
        std::tie(lo, hi) = *options.value_range;
    } else {
        lo = std::min(lo, *std::min_element(images.begin(), images.end()));
        hi = std::max(hi, *std::max_element(images.begin(), images.end()));
    }
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) {
        throw ValueError(fmt::format("{}: value range [{}, {}]; expected finite values with low < high", plot_samples_call, lo, hi));
    }
    std::vector<std::string> captions(n);
    std::vector<bool> wrong(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        if (predicted_labels.empty()) {
            captions[i] = label_text(options.class_names, true_labels[i]);
        } else {
            wrong[i] = predicted_labels[i] != true_labels[i];
            captions[i] = fmt::format("true {} / pred {}", label_text(options.class_names, true_labels[i]),
                                      label_text(options.class_names, predicted_labels[i]));
        }
    }

    const std::size_t columns = grid_columns(n, options);
    const std::size_t rows = (n + columns - 1) / columns;
    const auto [width, height] = sample_grid_size(n, options);
    Figure figure(path, width, height, plot_samples_call);
    plstream& pls = figure.pls();
    // White for low values, black for high: ink on paper, as matplotlib's "binary" map.
    const PLFLT at[2] = {0.0, 1.0}, grey[2] = {1.0, 0.0};
    pls.scmap1n(256);
    pls.scmap1l(true, 2, at, grey, grey, grey, nullptr);
    pls.adv(0);

    const double title_share = options.title.empty() ? 0.0 : static_cast<double>(title_height) / height;
    const double cell_w = 1.0 / static_cast<double>(columns);
    const double cell_h = (1.0 - title_share) / static_cast<double>(rows);
    // The image's side in page fractions: square in points, inside the cell with a margin.
    const double side_pts = std::min(cell_w * width, cell_h * height / (1.0 + caption_share)) * 0.86;
    const double side_x = side_pts / width, side_y = side_pts / height;
    const double caption_points = std::clamp(side_pts * 0.095, 4.0, 12.0);

    const std::size_t pixels = h * w;
    std::vector<std::vector<PLFLT>> z(w, std::vector<PLFLT>(h));
    std::vector<const PLFLT*> columns_ptr(w);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = i / columns, c = i % columns;
        const double cx = (static_cast<double>(c) + 0.5) * cell_w;
        const double bottom = 1.0 - title_share - static_cast<double>(r + 1) * cell_h;
        const double y0 = bottom + (cell_h - side_y * (1.0 + caption_share)) / 2.0;
        pls.vpor(cx - side_x / 2, cx + side_x / 2, y0, y0 + side_y);
        pls.wind(0.0, static_cast<PLFLT>(w), 0.0, static_cast<PLFLT>(h));
        // Row 0 of an image is its top line; plimage's second index counts upwards.
        const float* pixel = images.data() + i * pixels;
        for (std::size_t y = 0; y < h; ++y) {
            for (std::size_t x = 0; x < w; ++x) z[x][h - 1 - y] = std::clamp(static_cast<PLFLT>(pixel[y * w + x]), PLFLT(lo), PLFLT(hi));
        }
        for (std::size_t x = 0; x < w; ++x) columns_ptr[x] = z[x].data();
        pls.image(columns_ptr.data(), static_cast<PLINT>(w), static_cast<PLINT>(h), 0.0, static_cast<PLFLT>(w), 0.0,
                  static_cast<PLFLT>(h), lo, hi, 0.0, static_cast<PLFLT>(w), 0.0, static_cast<PLFLT>(h));
        pls.col0(wrong[i] ? figure_color::error : figure_color::grid);
        pls.width(wrong[i] ? 2.0 : 1.0);
        pls.box("bc", 0.0, 0, "bc", 0.0, 0);
        pls.width(1.0);
        pls.col0(wrong[i] ? figure_color::error : figure_color::text);
        figure.set_text_height(caption_points);
        pls.mtex("t", 0.6, 0.5, 0.5, captions[i].c_str());
    }
    if (!options.title.empty()) {
        pls.vpor(0.0, 1.0, 1.0 - title_share, 1.0);
        pls.wind(0.0, 1.0, 0.0, 1.0);
        pls.col0(figure_color::text);
        figure.set_text_height(14.0);
        pls.ptex(0.5, 0.3, 1.0, 0.0, 0.5, options.title.c_str());
    }
    figure.save();
}

}  // namespace xg
