#pragma once
// Confusion matrices: how often each true class was predicted as each class, as counts, a
// printed table, and a heat map with the counts written in its cells.
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "xgrad/data/dataset.hpp"

namespace xg {

class Model;

/// Each sample's true and predicted class.
struct Classification {
    std::size_t classes = 0;
    std::vector<std::size_t> true_labels, predicted_labels;
};

/// Runs `model` over `data` in batches (without recording): the true class is the argmax of a one-hot y
/// (or y itself when it is a label), the predicted one the argmax of the output (or output > 0.5 for one unit).
Classification classify(Model& model, const Dataset& data, std::size_t batch_size = 256);

/// counts(t, p): the samples of true class t predicted as p.
struct ConfusionMatrix {
    std::size_t classes = 0;
    std::vector<std::size_t> counts;  // classes x classes, row-major, rows are true classes

    std::size_t operator()(std::size_t truth, std::size_t predicted) const { return counts[truth * classes + predicted]; }
    /// All samples counted.
    std::size_t total() const;
    /// The fraction on the diagonal.
    double accuracy() const;
    /// The counts as an aligned text table, rows true and columns predicted, labelled by `class_names` or numbers.
    std::string table(const std::vector<std::string>& class_names = {}) const;
};

/// Counts pairs of labels in [0, classes); throws ValueError for lists of different lengths or a label out of range.
ConfusionMatrix confusion_matrix(const std::vector<std::size_t>& true_labels, const std::vector<std::size_t>& predicted_labels,
                                 std::size_t classes);
/// The matrix of a classification.
ConfusionMatrix confusion_matrix(const Classification& classification);
/// The matrix of `model` on `data` (see classify).
ConfusionMatrix confusion_matrix(Model& model, const Dataset& data, std::size_t batch_size = 256);

/// Prints table().
std::ostream& operator<<(std::ostream& out, const ConfusionMatrix& matrix);

struct ConfusionPlotOptions {
    /// Page size: pixels for PNG, points for SVG and PDF.
    int width = 640;
    int height = 600;
    std::string title = "Confusion matrix";
    /// Names for the classes' ticks; numbers when empty.
    std::vector<std::string> class_names;
};

/// Draws `matrix` as a heat map, true classes down and predicted across, each cell's count written in it,
/// into `path` (.svg, .png or .pdf). Throws ValueError for an empty matrix or an unknown extension, IoError
/// for a folder that does not exist.
void plot_confusion_matrix(const ConfusionMatrix& matrix, const std::string& path, const ConfusionPlotOptions& options = {});

}  // namespace xg
