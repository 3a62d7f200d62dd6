#include "xgrad/train/confusion_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// One prediction per target: the same number of elements, and the same batch.
void check_pairs(const Metric& metric, const Array& y_pred, const Array& y_true) {
    if (y_pred.dimension() == 0 || y_true.dimension() == 0 || y_pred.shape()[0] != y_true.shape()[0] ||
        y_pred.size() != y_true.size()) {
        throw ShapeError(fmt::format("{}: predictions {} and targets {}; expected one target per prediction, in the "
                                     "same batch",
                                     metric.name(), format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
}

void check_threshold(const std::string& metric, float threshold) {
    if (!(threshold >= 0.0f && threshold <= 1.0f)) {
        throw ValueError(fmt::format("{}: threshold {}; expected a number from 0 to 1", metric, threshold));
    }
}

// A rate with nothing to count is 0, as Keras's divide_no_nan gives it.
double ratio(double part, double whole) { return whole > 0.0 ? part / whole : 0.0; }

}  // namespace

Precision::Precision(float threshold, std::string name) : RatioMetric(std::move(name)), threshold_(threshold) {
    check_threshold(this->name(), threshold);
}

void Precision::update(const Array& y_pred, const Array& y_true) {
    check_pairs(*this, y_pred, y_true);
    // Of the predicted positives, the true ones.
    for (std::size_t k = 0; k < y_pred.size(); ++k) {
        if (y_pred.data()[k] > threshold_) count(y_true.data()[k] > 0.5f, 1.0);
    }
}

Recall::Recall(float threshold, std::string name) : RatioMetric(std::move(name)), threshold_(threshold) {
    check_threshold(this->name(), threshold);
}

void Recall::update(const Array& y_pred, const Array& y_true) {
    check_pairs(*this, y_pred, y_true);
    // Of the actual positives, the ones predicted.
    for (std::size_t k = 0; k < y_pred.size(); ++k) {
        if (y_true.data()[k] > 0.5f) count(y_pred.data()[k] > threshold_, 1.0);
    }
}

AUC::AUC(AUCOptions options) : Metric(std::move(options.name)), from_logits_(options.from_logits) {
    const std::size_t n = options.num_thresholds;
    if (n < 2) throw ValueError(fmt::format("{}: num_thresholds {}; expected at least 2", name(), n));
    // Keras's: i / (n - 1) inside, and the ends just beyond 0 and 1 so that a prediction of
    // exactly 0 or 1 falls on the right side of every threshold.
    constexpr float epsilon = 1e-7f;
    thresholds_.resize(n);
    for (std::size_t i = 1; i + 1 < n; ++i) thresholds_[i] = static_cast<float>(static_cast<double>(i) / static_cast<double>(n - 1));
    thresholds_.front() = -epsilon;
    thresholds_.back() = 1.0f + epsilon;
    reset();
}

void AUC::reset() {
    positives_.assign(thresholds_.size() + 1, 0.0);
    negatives_.assign(thresholds_.size() + 1, 0.0);
}

void AUC::update(const Array& y_pred, const Array& y_true) {
    check_pairs(*this, y_pred, y_true);
    // Checked whole before anything is counted: a bad batch leaves the counts as they were.
    std::vector<std::size_t> buckets(y_pred.size());
    for (std::size_t k = 0; k < y_pred.size(); ++k) {
        float p = y_pred.data()[k];
        if (from_logits_) p = 1.0f / (1.0f + std::exp(-p));
        if (!(p >= 0.0f && p <= 1.0f)) {
            throw ValueError(from_logits_ ? fmt::format("{}: logit {} (element {}); expected a number", name(),
                                                        y_pred.data()[k], k)
                                          : fmt::format("{}: prediction {} (element {}); expected a probability from 0 "
                                                        "to 1 (or from_logits for logits)",
                                                        name(), y_pred.data()[k], k));
        }
        // The number of thresholds the prediction is above: it is positive at each of them.
        buckets[k] = static_cast<std::size_t>(std::lower_bound(thresholds_.begin(), thresholds_.end(), p) - thresholds_.begin());
    }
    for (std::size_t k = 0; k < y_pred.size(); ++k) (y_true.data()[k] > 0.5f ? positives_ : negatives_)[buckets[k]] += 1.0;
}

double AUC::result() const {
    const double positives = std::accumulate(positives_.begin(), positives_.end(), 0.0);
    const double negatives = std::accumulate(negatives_.begin(), negatives_.end(), 0.0);
    // At threshold i the predicted positives are the buckets above i: the rates fall as i grows.
    double below_positives = positives_[0], below_negatives = negatives_[0];
    double tpr = ratio(positives - below_positives, positives), fpr = ratio(negatives - below_negatives, negatives);
    double area = 0.0;
    for (std::size_t i = 1; i < thresholds_.size(); ++i) {
        below_positives += positives_[i];
        below_negatives += negatives_[i];
        const double next_tpr = ratio(positives - below_positives, positives);
        const double next_fpr = ratio(negatives - below_negatives, negatives);
        area += (fpr - next_fpr) * (tpr + next_tpr) / 2.0;
        tpr = next_tpr;
        fpr = next_fpr;
    }
    return area;
}

std::vector<double> AUC::sums() const {
    std::vector<double> out = positives_;
    out.insert(out.end(), negatives_.begin(), negatives_.end());
    return out;
}

void AUC::set_sums(std::span<const double> sums) {
    detail::check_sums_length(*this, sums, 2 * positives_.size());
    const auto middle = sums.begin() + static_cast<std::ptrdiff_t>(positives_.size());
    std::copy(sums.begin(), middle, positives_.begin());
    std::copy(middle, sums.end(), negatives_.begin());
}

}  // namespace xg
