#include "xgrad/plot/history_plot.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <plplot/plplot.h>
#include <plplot/plstream.h>

#include "xgrad/core/error.hpp"
#include "xgrad/plot/figure.hpp"

namespace xg {
namespace {

constexpr const char* plot_history_call = "plot_history";
// U+2022, the dot of Keras's 'bo' points; PLplot draws it with the page's font.
constexpr const char* point_symbol = "\xe2\x80\xa2";

struct Panel {
    std::string key;
    const std::vector<double>* training;
    const std::vector<double>* validation;  // nullptr: no validation series
};

void check_series(const std::string& key, const std::vector<double>& values, std::size_t epochs) {
    if (values.size() != epochs) {
        throw ValueError(fmt::format("{}: series '{}' has {} values; expected one per epoch ({})", plot_history_call, key, values.size(), epochs));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values[i])) {
            throw ValueError(fmt::format("{}: series '{}' is not finite at epoch {} ({}); expected finite values", plot_history_call, key, i,
                                         values[i]));
        }
    }
}

// A tick step of 1, 2 or 5 times a power of ten that gives at most about 10 ticks.
double epoch_tick(std::size_t epochs) {
    const double raw = std::max(1.0, static_cast<double>(epochs) / 10.0);
    const double scale = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * scale >= raw) return m * scale;
    }
    return 10.0 * scale;
}

std::string capitalized(std::string text) {
    if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    std::replace(text.begin(), text.end(), '_', ' ');
    return text;
}

// The legend's corner: the one whose box (a fraction of the plot) covers the fewest data
// points, as matplotlib's loc="best" does; ties go to the top right.
int legend_corner(const std::vector<std::array<double, 2>>& points, double& headroom) {
    constexpr double box_w = 0.45, box_h = 0.28;
    const std::array<int, 4> corners = {PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_TOP | PL_POSITION_LEFT,
                                        PL_POSITION_BOTTOM | PL_POSITION_RIGHT, PL_POSITION_BOTTOM | PL_POSITION_LEFT};
    int best = corners[0];
    std::size_t best_count = std::numeric_limits<std::size_t>::max();
    for (int corner : corners) {
        const bool right = corner & PL_POSITION_RIGHT, top = corner & PL_POSITION_TOP;
        std::size_t count = 0;
        for (auto [u, v] : points) {
            const bool in_x = right ? u > 1.0 - box_w : u < box_w;
            const bool in_y = top ? v > 1.0 - box_h : v < box_h;
            count += in_x && in_y;
        }
        if (count < best_count) {
            best = corner;
            best_count = count;
        }
    }
    // No free corner: raise the top of the axis so the legend sits above the data.
    headroom = best_count > 0 ? box_h / (1.0 - box_h) + 0.02 : 0.0;
    return best_count > 0 ? corners[0] : best;
}

void draw_panel(Figure& figure, const Panel& panel, const HistoryPlotOptions& options) {
    plstream& pls = figure.pls();
    const std::size_t n = panel.training->size();
    std::vector<double> epochs(n);
    for (std::size_t i = 0; i < n; ++i) epochs[i] = static_cast<double>(options.first_epoch + i);
    const double x_min = epochs.front() - 0.5, x_max = epochs.back() + 0.5;

    double lo = *std::min_element(panel.training->begin(), panel.training->end());
    double hi = *std::max_element(panel.training->begin(), panel.training->end());
    if (panel.validation) {
        lo = std::min(lo, *std::min_element(panel.validation->begin(), panel.validation->end()));
        hi = std::max(hi, *std::max_element(panel.validation->begin(), panel.validation->end()));
    }
    const double span = hi > lo ? hi - lo : std::max(std::abs(hi) * 0.1, 1e-3);
    double y_min = lo - 0.06 * span, y_max = hi + 0.06 * span;

    // Where the data sits in the plot, as fractions, to place the legend off it.
    std::vector<std::array<double, 2>> where;
    auto add_points = [&](const std::vector<double>& values, bool line) {
        for (std::size_t i = 0; i < n; ++i) {
            where.push_back({(epochs[i] - x_min) / (x_max - x_min), (values[i] - y_min) / (y_max - y_min)});
            if (line && i + 1 < n) {
                for (double t : {0.25, 0.5, 0.75}) {
                    const double e = epochs[i] + t, v = values[i] + t * (values[i + 1] - values[i]);
                    where.push_back({(e - x_min) / (x_max - x_min), (v - y_min) / (y_max - y_min)});
                }
            }
        }
    };
    add_points(*panel.training, false);
    if (panel.validation) add_points(*panel.validation, true);
    double headroom = 0.0;
    const int corner = legend_corner(where, headroom);
    y_max += headroom * (y_max - y_min);

    pls.adv(0);
    figure.set_text_height(options.text_height);
    pls.vsta();
    pls.wind(x_min, x_max, y_min, y_max);
    const double tick = epoch_tick(n);
    pls.col0(figure_color::grid);
    pls.box("g", tick, 1, "g", 0.0, 0);
    pls.col0(figure_color::text);
    pls.box("bcnst", tick, 1, "bcnstv", 0.0, 0);
    const std::string name = capitalized(panel.key);
    std::string title = panel.validation ? fmt::format("Training and validation {}", panel.key) : fmt::format("Training {}", panel.key);
    if (!options.title.empty()) title = options.title + ": " + title;
    pls.lab("Epochs", name.c_str(), title.c_str());

    pls.col0(figure_color::training);
    figure.set_text_height(options.text_height * 1.6);
    pls.string(static_cast<PLINT>(n), epochs.data(), panel.training->data(), point_symbol);
    figure.set_text_height(options.text_height);
    if (panel.validation) {
        pls.col0(figure_color::validation);
        pls.width(2.0);
        pls.line(static_cast<PLINT>(n), epochs.data(), panel.validation->data());
        pls.width(1.0);
    }

    const int entries = panel.validation ? 2 : 1;
    const std::array<PLINT, 2> opt = {PL_LEGEND_SYMBOL, PL_LEGEND_LINE};
    const std::array<PLINT, 2> text_colors = {figure_color::text, figure_color::text};
    const std::array<const char*, 2> text = {"Training", "Validation"};
    const std::array<PLINT, 2> box_colors = {0, 0}, box_patterns = {0, 0};
    const std::array<PLFLT, 2> box_scales = {1.0, 1.0}, box_widths = {1.0, 1.0};
    const std::array<PLINT, 2> line_colors = {figure_color::training, figure_color::validation}, line_styles = {1, 1};
    const std::array<PLFLT, 2> line_widths = {1.0, 2.0};
    const std::array<PLINT, 2> symbol_colors = {figure_color::training, figure_color::validation};
    const std::array<PLFLT, 2> symbol_scales = {1.6, 1.0};
    const std::array<PLINT, 2> symbol_numbers = {1, 1};
    const std::array<const char*, 2> symbols = {point_symbol, point_symbol};
    PLFLT legend_width = 0, legend_height = 0;
    pls.legend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
               PL_POSITION_INSIDE | PL_POSITION_VIEWPORT | corner, 0.02, 0.03, 0.08, figure_color::background,
               figure_color::grid, 1, 0, 0, entries, opt.data(), 0.8, 0.9, 2.0, 0.0, text_colors.data(), text.data(),
               box_colors.data(), box_patterns.data(), box_scales.data(), box_widths.data(), line_colors.data(),
               line_styles.data(), line_widths.data(), symbol_colors.data(), symbol_scales.data(), symbol_numbers.data(),
               symbols.data());
}

}  // namespace

void plot_history(const History& history, const std::string& path, const HistoryPlotOptions& options) {
    check_figure_path(path, plot_history_call);
    const auto loss = history.values.find("loss");
    const std::size_t epochs = loss == history.values.end() ? 0 : loss->second.size();
    if (epochs == 0) {
        throw ValueError(fmt::format("{}: history has no 'loss' values ({} epochs); expected a History of at least one epoch",
                                     plot_history_call, history.epochs()));
    }
    std::vector<Panel> panels;
    for (const std::string& key : {std::string("loss"), options.metric}) {
        if (key.empty() || !history.values.contains(key)) continue;
        const std::vector<double>& training = history.values.at(key);
        check_series(key, training, epochs);
        const std::vector<double>* validation = nullptr;
        if (auto it = history.values.find("val_" + key); it != history.values.end()) {
            check_series(it->first, it->second, epochs);
            validation = &it->second;
        }
        panels.push_back({key, &training, validation});
    }

    Figure figure(path, options.width, options.height, plot_history_call);
    plstream& pls = figure.pls();
    pls.ssub(static_cast<PLINT>(panels.size()), 1);
    for (const Panel& panel : panels) draw_panel(figure, panel, options);
    figure.save();
}

}  // namespace xg
