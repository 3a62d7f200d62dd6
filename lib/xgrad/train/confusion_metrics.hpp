#pragma once
// The metrics of a binary classifier's confusion counts, as Keras computes them: Precision,
// Recall, and AUC (the area under the ROC curve from the counts at fixed thresholds). Each
// prediction is a probability of the positive class, each target 0 or 1; every element of a
// batch counts, so (batch, 1) and (batch,) alike. Their counts add up across data-parallel
// processes (Metric::sums), so a figure is the whole data's. Two choices differ from Keras's: a
// target is positive above 0.5 (Keras: any nonzero target, so a smoothed 0.1 label would be
// positive), and AUC refuses a prediction outside [0, 1] (Keras asserts it, or clips it).
#include <string>
#include <vector>

#include "xgrad/train/metric.hpp"

namespace xg {

/// True positives over predicted positives: tp / (tp + fp), 0 when nothing was predicted
/// positive. A prediction above `threshold` is positive.
class Precision : public RatioMetric {
public:
    explicit Precision(float threshold = 0.5f, std::string name = "precision");
    void update(const Array& y_pred, const Array& y_true) override;

private:
    float threshold_;
};

/// True positives over actual positives: tp / (tp + fn), 0 when there were none. A prediction
/// above `threshold` is positive.
class Recall : public RatioMetric {
public:
    explicit Recall(float threshold = 0.5f, std::string name = "recall");
    void update(const Array& y_pred, const Array& y_true) override;

private:
    float threshold_;
};

struct AUCOptions {
    /// Thresholds evenly spaced over [0, 1] (the first just below 0, the last just above 1), as
    /// Keras's; more of them follow the curve more closely. At least 2.
    std::size_t num_thresholds = 200;
    /// Whether the predictions are logits, a sigmoid away from probabilities.
    bool from_logits = false;
    std::string name = "auc";
};

/// The area under the ROC curve (true positive rate against false positive rate), as Keras's
/// AUC() computes it: the confusion counts at each threshold, joined by the trapezoid rule.
/// Predictions of the same threshold interval count as tied (half a correct ordering): the figure
/// is close to the exact area when the predictions spread over [0, 1], and can be far from it
/// when they crowd into a few intervals (as Keras warns of its own).
class AUC : public Metric {
public:
    explicit AUC(AUCOptions options = {});
    void reset() override;
    /// Throws ValueError for a prediction outside [0, 1] (or NaN) when not from_logits.
    void update(const Array& y_pred, const Array& y_true) override;
    double result() const override;
    /// The counts of positive and of negative targets in each threshold interval.
    std::vector<double> sums() const override;
    void set_sums(std::span<const double> sums) override;

private:
    std::vector<float> thresholds_;
    bool from_logits_;
    // positives_[b], negatives_[b]: the targets whose prediction is above exactly b thresholds.
    std::vector<double> positives_, negatives_;
};

}  // namespace xg
