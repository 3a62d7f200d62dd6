#include "xgrad/train/metric.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/train/confusion_metrics.hpp"

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

void detail::check_sums_length(const Metric& metric, std::span<const double> sums, std::size_t expected) {
    if (sums.size() != expected) {
        throw ValueError(fmt::format("metric '{}': set_sums given {} number{}; expected {}", metric.name(), sums.size(),
                                     sums.size() == 1 ? "" : "s", expected));
    }
}

void Metric::set_sums(std::span<const double> sums) {
    if (sums.empty() && this->sums().empty()) return;
    throw StateError(fmt::format("metric '{}': set_sums is not overridden; a metric that gives sums() must take them back",
                                 name()));
}

void Mean::set_sums(std::span<const double> sums) {
    if (sums.size() != 2) throw ValueError(fmt::format("Mean: set_sums given {} number(s); expected 2", sums.size()));
    total_ = sums[0];
    weight_ = sums[1];
}

void RatioMetric::set_sums(std::span<const double> sums) {
    detail::check_sums_length(*this, sums, 2);
    hits_ = sums[0];
    total_ = sums[1];
}

Accuracy::Accuracy(AccuracyKind kind, std::string name) : RatioMetric(std::move(name)), kind_(kind) {}

void Accuracy::update(const Array& y_pred, const Array& y_true) {
    if (y_pred.dimension() == 0 || y_true.dimension() == 0 || y_pred.shape()[0] != y_true.shape()[0]) {
        throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected the same batch size", name(),
                                     format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
    // A prediction per position: a row per sample, or per step of a sequence ((batch, steps,
    // classes) as Keras's accuracies read it); a vector holds one output per sample.
    const std::size_t width = y_pred.dimension() == 1 ? 1 : y_pred.shape().back();
    const std::size_t n = width == 0 ? 0 : y_pred.size() / width;
    AccuracyKind kind = kind_;
    // One output per sample is a yes/no: argmax of one column would always be right.
    if (kind == AccuracyKind::by_width) kind = width == 1 ? AccuracyKind::binary : AccuracyKind::categorical;
    if (width == 0 && y_pred.shape()[0] > 0 && kind != AccuracyKind::binary) {
        throw ShapeError(fmt::format("{}: predictions {}; expected at least one class", name(), format_shape(y_pred.shape())));
    }
    switch (kind) {
        case AccuracyKind::by_width:  // resolved above
        case AccuracyKind::categorical:
            if (y_true.shape() != y_pred.shape()) {
                throw ShapeError(fmt::format("{}: predictions {} and one-hot targets {}; expected equal shapes", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t r = 0; r < n; ++r) {
                count(argmax_row(y_pred.data() + r * width, width) == argmax_row(y_true.data() + r * width, width), 1.0);
            }
            break;
        case AccuracyKind::sparse:
            if (y_true.size() != n) {
                throw ShapeError(fmt::format("{}: predictions {} and labels {}; expected one label per prediction", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t r = 0; r < n; ++r) {
                count(static_cast<float>(argmax_row(y_pred.data() + r * width, width)) == y_true.data()[r], 1.0);
            }
            break;
        case AccuracyKind::binary:
            if (y_true.size() != y_pred.size()) {
                throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected equal sizes", name(),
                                             format_shape(y_pred.shape()), format_shape(y_true.shape())));
            }
            for (std::size_t k = 0; k < y_pred.size(); ++k) count((y_pred.data()[k] > 0.5f) == (y_true.data()[k] > 0.5f), 1.0);
            break;
    }
}

TopKAccuracy::TopKAccuracy(std::size_t k, bool sparse, std::string name)
    : RatioMetric(name.empty() ? (sparse ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy") : std::move(name)),
      k_(k),
      sparse_(sparse) {
    if (k == 0) throw ValueError(fmt::format("{}: k 0; expected at least 1", this->name()));
}

void TopKAccuracy::update(const Array& y_pred, const Array& y_true) {
    if (y_pred.dimension() < 2 || y_true.dimension() == 0 || y_true.shape()[0] != y_pred.shape()[0]) {
        throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected predictions (batch, classes) or "
                                     "(batch, ..., classes) and targets of the same batch",
                                     name(), format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
    // A ranking per position: a row per sample, or per step of a sequence, as for Accuracy.
    const std::size_t width = y_pred.shape().back();
    const std::size_t n = width == 0 ? y_pred.shape()[0] : y_pred.size() / width;
    if (width == 0) {
        throw ShapeError(fmt::format("{}: predictions {}; expected at least one class", name(), format_shape(y_pred.shape())));
    }
    if (sparse_ ? y_true.size() != n : y_true.shape() != y_pred.shape()) {
        throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected {}", name(), format_shape(y_pred.shape()),
                                     format_shape(y_true.shape()),
                                     sparse_ ? "one label per prediction" : "one-hot targets of the predictions' shape"));
    }
    for (std::size_t r = 0; r < n; ++r) {
        std::size_t target = 0;
        if (sparse_) {
            const float label = y_true.data()[r];
            if (!(label >= 0.0f && label < static_cast<float>(width) && label == std::floor(label))) {
                throw ValueError(fmt::format("{}: label {} in row {}; expected a class from 0 to {}", name(), label, r,
                                             width - 1));
            }
            target = static_cast<std::size_t>(label);
        } else {
            target = argmax_row(y_true.data() + r * width, width);
        }
        const float* row = y_pred.data() + r * width;
        // In the top k unless k or more classes score strictly higher; a NaN or an infinity
        // anywhere leaves the row without a ranking (TensorFlow's rule).
        std::size_t higher = 0;
        bool finite = true;
        for (std::size_t j = 0; j < width; ++j) {
            higher += row[j] > row[target];
            finite = finite && std::isfinite(row[j]);
        }
        count(finite && higher < k_, 1.0);
    }
}

LossMetric::LossMetric(std::string name, LossFn formula) : Metric(std::move(name)), formula_(std::move(formula)) {
    if (!formula_) throw ValueError(fmt::format("LossMetric '{}': no formula; expected a loss function", this->name()));
}

void LossMetric::set_sums(std::span<const double> sums) {
    detail::check_sums_length(*this, sums, 2);
    mean_.set_sums(sums);
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
    if (name == "top_k_categorical_accuracy") return std::make_unique<TopKAccuracy>(5, false);
    if (name == "sparse_top_k_categorical_accuracy") return std::make_unique<TopKAccuracy>(5, true);
    if (name == "precision" || name == "Precision") return std::make_unique<Precision>(0.5f, "precision");
    if (name == "recall" || name == "Recall") return std::make_unique<Recall>(0.5f, "recall");
    if (name == "auc" || name == "AUC") return std::make_unique<AUC>();
    // Keras's cosine_similarity metric is the similarity; the loss is its negative.
    if (name == "cosine_similarity") {
        return std::make_unique<LossMetric>(name, [](const Tensor& p, const Tensor& y) { return -cosine_similarity(p, y); });
    }
    try {
        const Loss formula = loss_by_name(name);
        return std::make_unique<LossMetric>(name, [formula](const Tensor& p, const Tensor& y) { return formula(p, y); });
    } catch (const ValueError&) {
        throw ValueError(fmt::format("metric_by_name: unknown metric '{}'; expected accuracy, categorical_accuracy, "
                                     "sparse_categorical_accuracy, binary_accuracy, top_k_categorical_accuracy, "
                                     "sparse_top_k_categorical_accuracy, precision, recall, auc or a loss's name: {}",
                                     name, loss_names()));
    }
}

}  // namespace xg
