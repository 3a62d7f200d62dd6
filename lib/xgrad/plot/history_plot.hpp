#pragma once
// plot_history: a History's loss and metric against epoch, training as points and validation
// as a line, as Deep Learning with Python draws them to show where overfitting starts.
#include <string>

#include "xgrad/train/history.hpp"

namespace xg {

struct HistoryPlotOptions {
    /// Page size: pixels for PNG, points for SVG and PDF.
    int width = 1000;
    int height = 400;
    /// The metric of the second panel; without it in the history only the loss is drawn.
    std::string metric = "accuracy";
    /// Height of the labels' characters, in points (pixels in PNG).
    double text_height = 13.0;
    /// Text before each panel's title ("Training and validation loss").
    std::string title;
    /// The number of the history's first epoch (1 as Keras prints them).
    std::size_t first_epoch = 1;
};

/// Draws loss and options.metric against epoch into `path` (.svg, .png or .pdf); "val_" series as lines.
/// Throws ValueError for an empty history, one without "loss", series of different lengths or
/// non-finite values, an unknown extension; IoError for a folder that does not exist.
void plot_history(const History& history, const std::string& path, const HistoryPlotOptions& options = {});

}  // namespace xg
