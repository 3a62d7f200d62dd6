#include "xgrad/train/learning_rate_callbacks.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/train/detail/monitor_mode.hpp"
#include "xgrad/train/model.hpp"

namespace xg {

LearningRateScheduler::LearningRateScheduler(Schedule schedule) : schedule_(std::move(schedule)) {
    if (!schedule_) throw ValueError("LearningRateScheduler: the schedule is empty; expected a function");
}

void LearningRateScheduler::on_epoch_begin(Model& model, std::size_t epoch) {
    Optimizer& optimizer = model.optimizer();
    const float lr = schedule_(epoch, optimizer.learning_rate());
    if (!Optimizer::accepts_learning_rate(lr)) {
        throw ValueError(fmt::format("LearningRateScheduler: the schedule gave {} for epoch {}; expected a finite "
                                     "learning rate > 0",
                                     lr, epoch));
    }
    optimizer.set_learning_rate(lr);
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options, History history_so_far)
    : options_(std::move(options)),
      history_so_far_(std::move(history_so_far)),
      maximize_(detail::monitor_rises(options_.monitor, options_.mode, "ReduceLROnPlateau")) {
    if (!(options_.factor > 0.0f && options_.factor < 1.0f)) {
        throw ValueError(fmt::format("ReduceLROnPlateau: factor {}; expected 0 < factor < 1", options_.factor));
    }
    if (!(options_.min_lr >= 0.0f && std::isfinite(options_.min_lr))) {
        throw ValueError(fmt::format("ReduceLROnPlateau: min_lr {}; expected a finite value >= 0", options_.min_lr));
    }
    if (!(options_.min_delta >= 0.0 && std::isfinite(options_.min_delta))) {
        throw ValueError(fmt::format("ReduceLROnPlateau: min_delta {}; expected a finite value >= 0", options_.min_delta));
    }
}

void ReduceLROnPlateau::on_train_begin(Model&) {
    best_ = maximize_ ? -INFINITY : INFINITY;
    wait_ = 0;
    cooldown_left_ = 0;
    if (history_so_far_.epochs() == 0) return;
    // Each plateau of the resumed epochs reduced the learning rate unless it was at min_lr
    // already; and once it is there, the counters no longer matter. So replaying them as if
    // every plateau reduced it leaves the counters where the uninterrupted run had them.
    for (double value : history_so_far_[options_.monitor]) plateau_after(value);
}

bool ReduceLROnPlateau::plateau_after(double value) {
    // As Keras: a cooldown epoch counts down and clears the wait, and may still be an improvement;
    // the last one already counts towards the next plateau.
    if (cooldown_left_ > 0) {
        --cooldown_left_;
        wait_ = 0;
    }
    const bool improved = maximize_ ? value > best_ + options_.min_delta : value < best_ - options_.min_delta;
    if (improved) {
        best_ = value;
        wait_ = 0;
        return false;
    }
    if (cooldown_left_ > 0 || ++wait_ < options_.patience) return false;
    wait_ = 0;
    cooldown_left_ = options_.cooldown;
    return true;
}

void ReduceLROnPlateau::on_epoch_end(Model& model, std::size_t, const Logs& logs) {
    // log_value names the available keys when the monitored one is missing.
    if (!plateau_after(log_value(logs, options_.monitor))) return;
    Optimizer& optimizer = model.optimizer();
    const float lr = optimizer.learning_rate();
    if (lr <= options_.min_lr) return;
    const float reduced = std::max(lr * options_.factor, options_.min_lr);
    // A rate that underflows to zero (min_lr 0) stays where it is: no step is smaller than it.
    if (Optimizer::accepts_learning_rate(reduced)) optimizer.set_learning_rate(reduced);
}

}  // namespace xg
