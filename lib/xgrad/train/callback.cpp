#include "xgrad/train/callback.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/train/detail/monitor_mode.hpp"
#include "xgrad/train/model.hpp"

namespace xg {

namespace detail {

bool monitor_rises(const std::string& monitor, const std::string& mode, const char* who) {
    if (mode == "max") return true;
    if (mode == "min") return false;
    if (mode != "auto") throw ValueError(fmt::format("{}: mode '{}'; expected min, max or auto", who, mode));
    // Accuracies, the cosine similarity, precision, recall and AUC grow as the model improves;
    // losses and errors fall.
    static const std::array<std::string_view, 5> rising{"acc", "cosine_similarity", "precision", "recall", "auc"};
    return std::ranges::any_of(rising, [&](std::string_view key) { return monitor.find(key) != std::string::npos; });
}

}  // namespace detail

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), maximize_(detail::monitor_rises(options_.monitor, options_.mode, "EarlyStopping")) {}

void EarlyStopping::on_train_begin(Model&) {
    best_ = maximize_ ? -INFINITY : INFINITY;
    wait_ = 0;
    stopped_epoch_ = -1;
    best_weights_.clear();
}

bool EarlyStopping::improved(double value) const {
    return maximize_ ? value > best_ + options_.min_delta : value < best_ - options_.min_delta;
}

void EarlyStopping::on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) {
    // log_value names the available keys when the monitored one is missing.
    const double value = log_value(logs, options_.monitor);
    if (improved(value)) {
        best_ = value;
        wait_ = 0;
        if (options_.restore_best_weights) {
            best_weights_.clear();
            for (auto& [name, t] : model.network().named_state()) best_weights_.push_back(t.value());
        }
        return;
    }
    // As Keras: stop at the patience-th epoch in a row without improvement (0 and 1 both stop at the first).
    if (++wait_ >= options_.patience) {
        stopped_epoch_ = static_cast<long>(epoch);
        model.stop_training();
    }
}

void EarlyStopping::on_train_end(Model& model) {
    if (stopped_epoch_ < 0 || best_weights_.empty()) return;
    // The moving statistics go back with the weights they were gathered for, as in Keras.
    auto state = model.network().named_state();
    for (std::size_t i = 0; i < state.size(); ++i) state[i].second.mutable_value() = best_weights_[i];
}

}  // namespace xg
