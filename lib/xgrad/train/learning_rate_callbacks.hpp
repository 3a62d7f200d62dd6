#pragma once
// Callbacks that change the optimizer's learning rate between epochs, as Keras's
// LearningRateScheduler and ReduceLROnPlateau do.
#include <cstddef>
#include <functional>
#include <string>

#include "xgrad/train/callback.hpp"
#include "xgrad/train/history.hpp"

namespace xg {

/// Sets the learning rate before each epoch to `schedule(epoch, current learning rate)`, epochs
/// counted from 0 (from FitOptions::initial_epoch when resuming), as
/// keras.callbacks.LearningRateScheduler. A schedule that returns no learning rate (not finite,
/// or <= 0) stops fit with a ValueError naming the epoch and the value.
class LearningRateScheduler : public Callback {
public:
    using Schedule = std::function<float(std::size_t epoch, float learning_rate)>;
    explicit LearningRateScheduler(Schedule schedule);
    void on_epoch_begin(Model& model, std::size_t epoch) override;

private:
    Schedule schedule_;
};

struct ReduceLROnPlateauOptions {
    std::string monitor = "val_loss";
    /// The learning rate is multiplied by it at each plateau: 0 < factor < 1.
    float factor = 0.1f;
    /// Epochs in a row without improvement that make a plateau.
    std::size_t patience = 10;
    /// "min", "max", or "auto": max for accuracy-like keys (accuracies, the cosine similarity,
    /// precision, recall, AUC), as EarlyStopping; Keras's looks for "acc" alone, and would
    /// minimise an AUC.
    std::string mode = "auto";
    /// Smaller changes do not count as improvement.
    double min_delta = 1e-4;
    /// Epochs after a reduction during which no plateau is counted.
    std::size_t cooldown = 0;
    /// The learning rate is never reduced below it (>= 0).
    float min_lr = 0.0f;
};

/// Multiplies the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, then waits `cooldown` epochs, never going below `min_lr`: as
/// keras.callbacks.ReduceLROnPlateau, with three differences (docs/custom_models.md). The epoch
/// that ends a plateau decides the reduction, which takes effect as the next epoch begins (or as
/// training ends), so that a checkpoint written at that epoch's end holds the same learning rate
/// whatever the order of the callbacks; list it before a LearningRateScheduler, which then sees
/// the reduced rate, as in Keras. "auto" maximises every accuracy-like key. And a missing
/// monitored value is a ValueError naming the logged ones, where Keras warns and skips the epoch.
///
/// Its counters start afresh at each fit. A run resumed from a CheckpointCallback's checkpoint
/// passes the History load_checkpoint returned: the first fit replays its epochs (the learning
/// rate itself comes back with the checkpoint, as it was at the last epoch's end), so that the
/// resumed run reduces the learning rate at the epochs the uninterrupted one would. (A checkpoint
/// saved after fit returned already holds a reduction the last epoch decided, which the replay
/// would apply again.) In data-parallel training, process 0's counters (the process that read
/// the checkpoint) are every process's.
class ReduceLROnPlateau : public Callback {
public:
    /// Throws ValueError for a factor outside (0, 1), a negative or non-finite min_lr or
    /// min_delta, or an unknown mode.
    explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {}, History history_so_far = {});
    void on_train_begin(Model& model) override;
    void on_epoch_begin(Model& model, std::size_t epoch) override;
    void on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) override;
    void on_train_end(Model& model) override;

private:
    /// Counts one epoch's value; true when it ends a plateau while the learning rate can still
    /// fall (`reducible`): the rate is then due a reduction, and the counters start again.
    bool plateau_after(double value, bool reducible);
    /// Applies a reduction an epoch's end decided.
    void reduce_if_due(Model& model);
    /// Makes process 0's counters every process's (`error`: what its replay threw, if anything).
    void share_counters(Model& model, const std::string& error);

    ReduceLROnPlateauOptions options_;
    History history_so_far_;
    bool maximize_;
    double best_ = 0.0;
    std::size_t wait_ = 0, cooldown_left_ = 0;
    bool due_ = false;
};

}  // namespace xg
