#pragma once
// plot_samples: a grid of single-channel images captioned with their true and predicted
// labels, the misclassified ones in red: what a model gets wrong, at a glance.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xg {

struct SampleGridOptions {
    /// Images per row; 0: up to 6, fewer for fewer images.
    std::size_t columns = 0;
    /// Width of one cell, pixels for PNG, points for SVG and PDF; each cell is 1.2 times as tall (its caption).
    int cell_size = 110;
    /// Page size; 0 derives it from cell_size and the grid.
    int width = 0;
    int height = 0;
    std::string title;
    /// Names for the labels; numbers when empty.
    std::vector<std::string> class_names;
    /// The values drawn black and white (ink dark on paper); by default [min(0, lowest), max(1, highest)].
    std::optional<std::pair<float, float>> value_range;
};

/// The page size plot_samples draws `count` images on with `options`.
std::pair<int, int> sample_grid_size(std::size_t count, const SampleGridOptions& options = {});

/// Draws images (n, h, w), (n, h, w, 1), (n, 1, h, w) or (n, h*w) with h = w, captioned "true T / pred P"
/// (just "T" when predicted_labels is empty), misclassified ones in red, into `path` (.svg, .png or .pdf).
/// Throws ShapeError for other shapes, ValueError for no images or label lists of the wrong length.
void plot_samples(const Array& images, const std::vector<std::size_t>& true_labels,
                  const std::vector<std::size_t>& predicted_labels, const std::string& path, const SampleGridOptions& options = {});

}  // namespace xg
