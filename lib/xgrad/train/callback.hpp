#pragma once
// Callbacks: code fit() runs at the start and end of training and of each epoch.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/train/logs.hpp"

namespace xg {

class Model;

class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(Model&) {}
    /// `epoch` counts from 0.
    virtual void on_epoch_begin(Model&, std::size_t /*epoch*/) {}
    virtual void on_epoch_end(Model&, std::size_t /*epoch*/, const Logs&) {}
    virtual void on_train_end(Model&) {}
};

/// Runs a function after every epoch (learning-rate schedules, checkpoints, logging).
class LambdaCallback : public Callback {
public:
    using EpochEnd = std::function<void(Model&, std::size_t epoch, const Logs&)>;
    explicit LambdaCallback(EpochEnd on_epoch_end) : on_epoch_end_(std::move(on_epoch_end)) {}
    void on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) override { on_epoch_end_(model, epoch, logs); }

private:
    EpochEnd on_epoch_end_;
};

struct EarlyStoppingOptions {
    std::string monitor = "val_loss";
    double min_delta = 0.0;    // smaller changes do not count as improvement
    std::size_t patience = 0;  // stop once this many epochs in a row did not improve
    std::string mode = "auto"; // "min", "max", or "auto" (max for accuracy-like keys, cosine_similarity, precision, recall and auc)
    bool restore_best_weights = false;
};

/// Stops training when the monitored value stops improving, as keras.callbacks.EarlyStopping.
class EarlyStopping : public Callback {
public:
    explicit EarlyStopping(EarlyStoppingOptions options = {});
    void on_train_begin(Model& model) override;
    void on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) override;
    void on_train_end(Model& model) override;
    /// The epoch (from 0) at which training was stopped, or -1.
    long stopped_epoch() const { return stopped_epoch_; }

private:
    bool improved(double value) const;

    EarlyStoppingOptions options_;
    bool maximize_ = false;
    double best_ = 0.0;
    std::size_t wait_ = 0;
    long stopped_epoch_ = -1;
    std::vector<Array> best_weights_;
};

}  // namespace xg
