#include "xgrad/train/learning_rate_callbacks.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/train/data_parallel.hpp"
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

void ReduceLROnPlateau::on_train_begin(Model& model) {
    best_ = maximize_ ? -INFINITY : INFINITY;
    wait_ = 0;
    cooldown_left_ = 0;
    due_ = false;
    std::string error;
    if (history_so_far_.epochs() > 0) {
        // Each plateau of the resumed epochs reduced the learning rate unless it was at min_lr
        // already, and once it is there the counters no longer matter (unless something else
        // raises it again): replaying them as if every plateau reduced it leaves the counters
        // where the uninterrupted run had them. A plateau at the last epoch is still due.
        try {
            for (double value : history_so_far_[options_.monitor]) due_ = plateau_after(value, true);
            history_so_far_ = {};  // replayed once; a later fit starts afresh, as any fit
        } catch (const ValueError& e) {
            error = e.what();
        }
    }
    share_counters(model, error);
}

void ReduceLROnPlateau::share_counters(Model& model, const std::string& error) {
    DataParallel* parallel = model.data_parallel();
    if (parallel == nullptr) {
        if (!error.empty()) throw ValueError(error);
        return;
    }
    // Every process learns whether process 0's replay failed, so that none waits for the others.
    std::array<double, 1> failed{error.empty() ? 0.0 : 1.0};
    parallel->group().sum(failed);
    if (failed[0] > 0.0) {
        throw ValueError(error.empty() ? "ReduceLROnPlateau: another process could not replay its resumed History"
                                       : error);
    }
    std::array<double, 1> best{best_};
    std::array<std::size_t, 3> counters{wait_, cooldown_left_, due_ ? 1U : 0U};
    parallel->group().broadcast(best);
    parallel->group().broadcast(counters);
    best_ = best[0];
    wait_ = counters[0];
    cooldown_left_ = counters[1];
    due_ = counters[2] != 0;
}

bool ReduceLROnPlateau::plateau_after(double value, bool reducible) {
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
    // At min_lr Keras leaves the counters as they are: the wait goes on growing.
    if (cooldown_left_ > 0 || ++wait_ < options_.patience || !reducible) return false;
    wait_ = 0;
    cooldown_left_ = options_.cooldown;
    return true;
}

void ReduceLROnPlateau::on_epoch_end(Model& model, std::size_t, const Logs& logs) {
    // log_value names the available keys when the monitored one is missing.
    const double value = log_value(logs, options_.monitor);
    due_ = plateau_after(value, model.optimizer().learning_rate() > options_.min_lr);
}

void ReduceLROnPlateau::on_epoch_begin(Model& model, std::size_t) { reduce_if_due(model); }

void ReduceLROnPlateau::on_train_end(Model& model) { reduce_if_due(model); }

void ReduceLROnPlateau::reduce_if_due(Model& model) {
    if (!due_) return;
    due_ = false;
    Optimizer& optimizer = model.optimizer();
    const float lr = optimizer.learning_rate();
    if (lr <= options_.min_lr) return;
    const float reduced = std::max(lr * options_.factor, options_.min_lr);
    // A rate that underflows to zero (min_lr 0) stays where it is: no step is smaller than it.
    if (Optimizer::accepts_learning_rate(reduced)) optimizer.set_learning_rate(reduced);
}

}  // namespace xg
