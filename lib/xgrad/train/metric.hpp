#pragma once
// Metrics: running values over the batches of an epoch, reset at each epoch.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/train/loss.hpp"

namespace xg {

class Metric {
public:
    explicit Metric(std::string name) : name_(std::move(name)) {}
    virtual ~Metric() = default;
    /// The key shown in progress lines and histories ("accuracy").
    const std::string& name() const { return name_; }
    virtual void reset() = 0;
    /// Adds one batch: predictions and targets with a leading batch axis.
    virtual void update(const Array& y_pred, const Array& y_true) = 0;
    /// The value over everything added since reset (0 if nothing was).
    virtual double result() const = 0;
    /// What result() is computed from, as sums over the samples (counts, totals), so that
    /// data-parallel training can add up every process's: its figure is then the whole data's,
    /// as for one process. Empty (the default) for a metric without such sums: data-parallel
    /// training then averages the processes' results, weighted by their samples.
    virtual std::vector<double> sums() const { return {}; }
    /// Replaces the sums with `sums`, of the length sums() gives (the sums over all processes).
    /// The default throws StateError: a metric that gives sums must take them back.
    virtual void set_sums(std::span<const double> sums);

private:
    std::string name_;
};

namespace detail {
/// Throws ValueError naming the metric unless `sums` holds `expected` values (set_sums's check).
void check_sums_length(const Metric& metric, std::span<const double> sums, std::size_t expected);
}  // namespace detail

/// Which targets an Accuracy compares against.
enum class AccuracyKind {
    categorical,  // argmax(pred) == argmax(one-hot target)
    sparse,       // argmax(pred) == integer label
    binary,       // (pred > 0.5) == target
    by_width,     // binary for one prediction per sample, else categorical (Keras's choice after
                  // a loss that is not a crossentropy)
};

/// A metric that is a fraction of counts, hits of a total (0 before any): accuracies, precision,
/// recall. Derived metrics count in update().
class RatioMetric : public Metric {
public:
    void reset() override { hits_ = total_ = 0.0; }
    double result() const override { return total_ == 0.0 ? 0.0 : hits_ / total_; }
    /// The hits and the total.
    std::vector<double> sums() const override { return {hits_, total_}; }
    void set_sums(std::span<const double> sums) override;

protected:
    explicit RatioMetric(std::string name) : Metric(std::move(name)) {}
    /// Adds `total` cases, `hits` of them hits.
    void count(double hits, double total) {
        hits_ += hits;
        total_ += total;
    }

private:
    double hits_ = 0.0, total_ = 0.0;
};

/// Fraction of predictions right: one per sample, or one per position of (batch, ..., classes)
/// predictions (each step of a sequence), as Keras's accuracies count them.
class Accuracy : public RatioMetric {
public:
    explicit Accuracy(AccuracyKind kind, std::string name = "accuracy");
    void update(const Array& y_pred, const Array& y_true) override;

private:
    AccuracyKind kind_;
};

/// Fraction of samples whose target class is among the k highest predictions (Keras's
/// top_k_categorical_accuracy, or with `sparse` its sparse_top_k_categorical_accuracy, for
/// integer labels). As TensorFlow's in_top_k, classes tied with the k-th highest count as in the
/// top k, and a row holding a NaN or an infinity counts as wrong. A label that is not a class
/// (TensorFlow counts it wrong) is a ValueError: it is a mistake in the data.
class TopKAccuracy : public RatioMetric {
public:
    /// k >= 1 (Keras's default is 5); the name defaults to Keras's for the kind.
    explicit TopKAccuracy(std::size_t k = 5, bool sparse = false, std::string name = {});
    void update(const Array& y_pred, const Array& y_true) override;
    std::size_t k() const { return k_; }

private:
    std::size_t k_;
    bool sparse_;
};

/// Weighted running mean of scalar values (the loss shown during training).
class Mean {
public:
    void reset() { total_ = weight_ = 0.0; }
    void add(double value, double weight) {
        total_ += value * weight;
        weight_ += weight;
    }
    double result() const { return weight_ == 0.0 ? 0.0 : total_ / weight_; }
    /// The weighted total and the total weight.
    std::vector<double> sums() const { return {total_, weight_}; }
    /// Replaces them; throws ValueError unless `sums` holds two values.
    void set_sums(std::span<const double> sums);

private:
    double total_ = 0.0, weight_ = 0.0;
};

/// A loss formula as a metric: its mean over the samples of an epoch (Keras's "mae", "mse", ...).
class LossMetric : public Metric {
public:
    LossMetric(std::string name, LossFn formula);
    void reset() override { mean_.reset(); }
    void update(const Array& y_pred, const Array& y_true) override;
    double result() const override { return mean_.result(); }
    std::vector<double> sums() const override { return mean_.sums(); }
    void set_sums(std::span<const double> sums) override;

private:
    LossFn formula_;
    Mean mean_;
};

/// "accuracy" / "acc" -> the Accuracy that fits `loss` and the predictions (as Keras chooses); categorical_accuracy,
/// sparse_categorical_accuracy, binary_accuracy; top_k_categorical_accuracy and
/// sparse_top_k_categorical_accuracy (k 5); precision, recall and auc (also as Keras's class
/// names Precision, Recall, AUC; see confusion_metrics.hpp); or any name loss_by_name knows
/// ("mae", "mse", "kld", ...) -> that loss's mean (cosine_similarity's sign turned, as Keras's
/// metric is the similarity itself). Throws ValueError otherwise.
std::unique_ptr<Metric> metric_by_name(const std::string& name, const std::string& loss);

}  // namespace xg
