#pragma once
// Metrics: running values over the batches of an epoch, reset at each epoch.
#include <memory>
#include <string>

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

private:
    std::string name_;
};

/// Which targets an Accuracy compares against.
enum class AccuracyKind {
    categorical,  // argmax(pred) == argmax(one-hot target)
    sparse,       // argmax(pred) == integer label
    binary,       // (pred > 0.5) == target
    by_width,     // binary for one prediction per sample, else categorical (Keras's choice after
                  // a loss that is not a crossentropy)
};

/// Fraction of samples predicted right.
class Accuracy : public Metric {
public:
    explicit Accuracy(AccuracyKind kind, std::string name = "accuracy");
    void reset() override { correct_ = total_ = 0; }
    void update(const Array& y_pred, const Array& y_true) override;
    double result() const override { return total_ == 0 ? 0.0 : static_cast<double>(correct_) / static_cast<double>(total_); }

private:
    AccuracyKind kind_;
    std::size_t correct_ = 0, total_ = 0;
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

private:
    LossFn formula_;
    Mean mean_;
};

/// "accuracy" / "acc" -> the Accuracy that fits `loss` and the predictions (as Keras chooses); categorical_accuracy,
/// sparse_categorical_accuracy, binary_accuracy; or any name loss_by_name knows ("mae", "mse",
/// "kld", ...) -> that loss's mean (cosine_similarity's sign turned, as Keras's metric is the
/// similarity itself). Throws ValueError otherwise.
std::unique_ptr<Metric> metric_by_name(const std::string& name, const std::string& loss);

}  // namespace xg
