#include "xgrad/train/metric.hpp"

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

std::size_t argmax_row(const float* row, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < n; ++j) {
        if (row[j] > row[best]) best = j;
    }
    return best;
}

}  // namespace

Accuracy::Accuracy(AccuracyKind kind, std::string name) : Metric(std::move(name)), kind_(kind) {}

void Accuracy::update(const Array& y_pred, const Array& y_true) {
    if (y_pred.dimension() == 0 || y_true.dimension() == 0 || y_pred.shape()[0] != y_true.shape()[0]) {
        throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected the same batch size", name(),
                                     format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
    const std::size_t n = y_pred.shape()[0];
    const std::size_t width = y_pred.size() / std::max<std::size_t>(n, 1);
    AccuracyKind kind = kind_;
    // One output per sample is a yes/no: argmax of one column would always be right.
    if (kind == AccuracyKind::by_width) kind = width == 1 ? AccuracyKind::binary : AccuracyKind::categorical;
    switch (kind) {
        case AccuracyKind::by_width:  // resolved above
        case AccuracyKind::categorical:
            if (y_true.shape() != y_pred.shape()) {
                throw ShapeError(fmt::format("{}: predictions {} and one-hot targets {}; expected equal shapes", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t r = 0; r < n; ++r) {
                correct_ += argmax_row(y_pred.data() + r * width, width) == argmax_row(y_true.data() + r * width, width);
            }
            break;
        case AccuracyKind::sparse:
            if (y_true.size() != n) {
                throw ShapeError(fmt::format("{}: predictions {} and labels {}; expected one label per sample", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t r = 0; r < n; ++r) {
                correct_ += static_cast<float>(argmax_row(y_pred.data() + r * width, width)) == y_true.data()[r];
            }
            break;
        case AccuracyKind::binary:
            if (y_true.size() != y_pred.size()) {
                throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected equal sizes", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t k = 0; k < y_pred.size(); ++k) correct_ += (y_pred.data()[k] > 0.5f) == (y_true.data()[k] > 0.5f);
            total_ += y_pred.size();
            return;
    }
    total_ += n;
}

LossMetric::LossMetric(std::string name, LossFn formula) : Metric(std::move(name)), formula_(std::move(formula)) {
    if (!formula_) throw ValueError(fmt::format("LossMetric '{}': no formula; expected a loss function", this->name()));
}

void LossMetric::update(const Array& y_pred, const Array& y_true) {
    NoGradGuard no_grad;
    double value = 0.0;
    try {
        value = formula_(constant(y_pred), constant(y_true)).item();
    } catch (const ShapeError& e) {
        throw ShapeError(fmt::format("metric '{}': {}", name(), e.what()));
    } catch (const ValueError& e) {
        throw ValueError(fmt::format("metric '{}': {}", name(), e.what()));
    }
    // Weighted by the batch's samples: the epoch's figure is the mean over all of them.
    mean_.add(value, y_pred.dimension() == 0 ? 1.0 : static_cast<double>(y_pred.shape()[0]));
}

std::unique_ptr<Metric> metric_by_name(const std::string& name, const std::string& loss) {
    if (name == "accuracy" || name == "acc") {
        // As Keras chooses: by the loss for the crossentropies, else by the predictions' width.
        const std::string canonical = canonical_loss_name(loss);
        AccuracyKind kind = AccuracyKind::by_width;
        if (canonical == "categorical_crossentropy") kind = AccuracyKind::categorical;
        if (canonical == "sparse_categorical_crossentropy") kind = AccuracyKind::sparse;
        if (canonical == "binary_crossentropy") kind = AccuracyKind::binary;
        return std::make_unique<Accuracy>(kind, name);
    }
    if (name == "categorical_accuracy") return std::make_unique<Accuracy>(AccuracyKind::categorical, name);
    if (name == "sparse_categorical_accuracy") return std::make_unique<Accuracy>(AccuracyKind::sparse, name);
    if (name == "binary_accuracy") return std::make_unique<Accuracy>(AccuracyKind::binary, name);
    // Keras's cosine_similarity metric is the similarity; the loss is its negative.
    if (name == "cosine_similarity") {
        return std::make_unique<LossMetric>(name, [](const Tensor& p, const Tensor& y) { return -cosine_similarity(p, y); });
    }
    try {
        const Loss formula = loss_by_name(name);
        return std::make_unique<LossMetric>(name, [formula](const Tensor& p, const Tensor& y) { return formula(p, y); });
    } catch (const ValueError&) {
        throw ValueError(fmt::format("metric_by_name: unknown metric '{}'; expected accuracy, categorical_accuracy, "
                                     "sparse_categorical_accuracy, binary_accuracy or a loss's name: {}",
                                     name, loss_names()));
    }
}

}  // namespace xg
