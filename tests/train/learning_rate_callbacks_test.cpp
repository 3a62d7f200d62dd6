// LearningRateScheduler and ReduceLROnPlateau: Keras's rules epoch by epoch (patience, cooldown,
// min_lr, modes), inside fit, resumed from a History, and their errors.
#include "xgrad/train/learning_rate_callbacks.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "../io/scratch_dir.hpp"
#include "regression_fixture.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/train/checkpoint.hpp"

namespace {

using fixture::quiet;
using fixture::Regression;
using fixture::Setup;

// The learning rate after each epoch (as the next begins, or training ends) when `callback` sees
// `series` under `key`, from `lr`.
std::vector<float> rates_after(xg::ReduceLROnPlateau& callback, const std::vector<double>& series, float lr,
                               const std::string& key = "val_loss") {
    Setup s(lr);
    callback.on_train_begin(*s.model);
    std::vector<float> rates;
    for (std::size_t epoch = 0; epoch < series.size(); ++epoch) {
        callback.on_epoch_begin(*s.model, epoch);
        if (epoch > 0) rates.push_back(s.model->optimizer().learning_rate());
        callback.on_epoch_end(*s.model, epoch, {{key, series[epoch]}});
    }
    callback.on_train_end(*s.model);
    rates.push_back(s.model->optimizer().learning_rate());
    return rates;
}

// Worked by hand with Keras's ReduceLROnPlateau.on_epoch_end (patience 2, cooldown 1, factor 0.5,
// min_lr 0.2, the default min_delta 1e-4), from a learning rate of 1.
const std::vector<double> plateaus{1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85};
const xg::ReduceLROnPlateauOptions keras_walk{.factor = 0.5f, .patience = 2, .cooldown = 1, .min_lr = 0.2f};

}  // namespace

TEST_CASE("ReduceLROnPlateau reduces as Keras's does: patience, a cooldown whose last epoch counts, min_lr") {
    xg::ReduceLROnPlateau callback(keras_walk);
    // Epoch 3 ends a plateau of two (0.5), then cools down for one epoch; epoch 4 clears the wait
    // and already counts, so epoch 5 ends the next (0.25). 0.8 is the new best; epochs 7 and 8
    // are a plateau (0.125, raised to min_lr 0.2), and at min_lr nothing changes any more.
    CHECK(rates_after(callback, plateaus, 1.0f) ==
          std::vector<float>{1, 1, 1, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f});
}

TEST_CASE("ReduceLROnPlateau's modes: auto maximises accuracy-like keys, min_delta sets what counts") {
    SUBCASE("accuracy rising") {
        xg::ReduceLROnPlateau rising({.monitor = "val_accuracy", .factor = 0.5f, .patience = 1});
        CHECK(rates_after(rising, {0.5, 0.6, 0.7}, 1.0f, "val_accuracy") == std::vector<float>{1, 1, 1});
        xg::ReduceLROnPlateau falling({.monitor = "val_accuracy", .factor = 0.5f, .patience = 1});
        CHECK(rates_after(falling, {0.7, 0.6, 0.5}, 1.0f, "val_accuracy") == std::vector<float>{1, 0.5f, 0.25f});
    }
    SUBCASE("min_delta") {
        xg::ReduceLROnPlateau small_steps({.factor = 0.5f, .patience = 1, .min_delta = 0.05});
        CHECK(rates_after(small_steps, {1.0, 0.99, 0.9}, 1.0f) == std::vector<float>{1, 0.5f, 0.5f});
    }
    SUBCASE("mode max on a loss") {
        xg::ReduceLROnPlateau backwards({.monitor = "loss", .factor = 0.5f, .patience = 1, .mode = "max"});
        CHECK(rates_after(backwards, {1.0, 0.5}, 1.0f, "loss") == std::vector<float>{1, 0.5f});
    }
}

TEST_CASE("ReduceLROnPlateau inside fit: the training loss never rises, so mode max reduces every epoch") {
    const Regression data;
    Setup s(0.04f);
    auto reduce = std::make_shared<xg::ReduceLROnPlateau>(
        xg::ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5f, .patience = 1, .mode = "max"});
    const xg::History history = s.model->fit(data.x, data.y, quiet(3, {reduce}));
    REQUIRE(history["loss"][2] < history["loss"][1]);
    CHECK(s.model->optimizer().learning_rate() == 0.01f);
    // Each fit starts its counters afresh: the first epoch of the next is an improvement.
    s.model->fit(data.x, data.y, quiet(1, {reduce}));
    CHECK(s.model->optimizer().learning_rate() == 0.01f);
}

TEST_CASE("ReduceLROnPlateau resumed with the History so far reduces where the uninterrupted run did") {
    xg::ReduceLROnPlateau whole(keras_walk);
    const std::vector<float> uninterrupted = rates_after(whole, plateaus, 1.0f);
    const auto first = [](std::size_t epochs) {
        xg::History h;
        for (std::size_t e = 0; e < epochs; ++e) h.add({{"val_loss", plateaus[e]}}, 1.0);
        return h;
    };
    const auto rest = [](std::size_t epochs) { return std::vector<double>(plateaus.begin() + static_cast<long>(epochs), plateaus.end()); };
    const auto tail = [&](std::size_t epochs) {
        return std::vector<float>(uninterrupted.begin() + static_cast<long>(epochs), uninterrupted.end());
    };
    // Stopped after 5 epochs (waiting one epoch since 0.9, at a learning rate of 0.5).
    xg::ReduceLROnPlateau resumed(keras_walk, first(5));
    CHECK(rates_after(resumed, rest(5), 0.5f) == tail(5));
    // Without the History, it would wait from scratch and miss the reduction at epoch 5.
    xg::ReduceLROnPlateau fresh(keras_walk);
    CHECK(rates_after(fresh, rest(5), 0.5f).front() == 0.5f);
    CHECK(uninterrupted[5] == 0.25f);
    // Stopped after epoch 3, whose plateau is due: its checkpoint holds the rate before it (1).
    xg::ReduceLROnPlateau at_plateau(keras_walk, first(4));
    CHECK(rates_after(at_plateau, rest(4), 1.0f) == tail(4));
    // A History without the monitored key is named when training begins.
    xg::History other;
    other.add({{"loss", 1.0}}, 1.0);
    xg::ReduceLROnPlateau lost(keras_walk, other);
    Setup s;
    CHECK_THROWS_WITH_AS(lost.on_train_begin(*s.model), doctest::Contains("val_loss"), xg::ValueError);
}

TEST_CASE("ReduceLROnPlateau resumed from a checkpoint ends where the uninterrupted run does, in either order of callbacks") {
    const Regression data;
    const xg::ReduceLROnPlateauOptions every_epoch{.monitor = "loss", .factor = 0.5f, .patience = 1, .mode = "max"};
    Setup whole(0.04f);
    whole.model->fit(data.x, data.y, quiet(4, {std::make_shared<xg::ReduceLROnPlateau>(every_epoch)}));
    const float uninterrupted = whole.model->optimizer().learning_rate();
    CHECK(uninterrupted == 0.005f);
    for (bool checkpoint_first : {true, false}) {
        CAPTURE(checkpoint_first);
        xg::test::ScratchDir dir;
        Setup first(0.04f);
        const auto callbacks = [&](std::shared_ptr<xg::Callback> reduce) {
            std::shared_ptr<xg::Callback> checkpoint = std::make_shared<xg::CheckpointCallback>(dir / "run");
            std::vector<std::shared_ptr<xg::Callback>> both{checkpoint, reduce};
            if (!checkpoint_first) std::swap(both[0], both[1]);
            return both;
        };
        first.model->fit(data.x, data.y, quiet(2, callbacks(std::make_shared<xg::ReduceLROnPlateau>(every_epoch))));
        Setup second(0.04f);
        const auto info = xg::load_checkpoint(dir / "run", *second.model);
        REQUIRE(info);
        xg::FitOptions rest = quiet(4, callbacks(std::make_shared<xg::ReduceLROnPlateau>(every_epoch, info->history)));
        rest.initial_epoch = info->epochs_done;
        second.model->fit(data.x, data.y, rest);
        CHECK(second.model->optimizer().learning_rate() == uninterrupted);
    }
}

TEST_CASE("ReduceLROnPlateau names bad options and a missing key") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(xg::ReduceLROnPlateau({.factor = 1.0f}), "ReduceLROnPlateau: factor 1; expected 0 < factor < 1",
                         xg::ValueError);
    CHECK_THROWS_AS(xg::ReduceLROnPlateau({.factor = 0.0f}), xg::ValueError);
    CHECK_THROWS_AS(xg::ReduceLROnPlateau({.factor = nan}), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ReduceLROnPlateau({.min_lr = -1.0f}), doctest::Contains("min_lr -1; expected a finite"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::ReduceLROnPlateau({.min_delta = std::nan("")}), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ReduceLROnPlateau({.mode = "up"}), "ReduceLROnPlateau: mode 'up'; expected min, max or auto",
                         xg::ValueError);
    const Regression data;
    Setup s;
    auto reduce = std::make_shared<xg::ReduceLROnPlateau>();  // val_loss, with no validation data
    CHECK_THROWS_WITH_AS(s.model->fit(data.x, data.y, quiet(1, {reduce})), doctest::Contains("val_loss"),
                         xg::ValueError);
}

TEST_CASE("LearningRateScheduler sets each epoch's learning rate from the epoch and the current rate") {
    const Regression data;
    Setup s(0.1f);
    std::vector<float> rates;
    auto record = std::make_shared<xg::LambdaCallback>(
        [&](xg::Model& m, std::size_t, const xg::Logs&) { rates.push_back(m.optimizer().learning_rate()); });
    auto halve_after_first = std::make_shared<xg::LearningRateScheduler>(
        [](std::size_t epoch, float lr) { return epoch == 0 ? lr : lr * 0.5f; });
    s.model->fit(data.x, data.y, quiet(3, {halve_after_first, record}));
    CHECK(rates == std::vector<float>{0.1f, 0.05f, 0.025f});
    // Resumed at epoch 3 of 5, the schedule sees the epochs' own numbers.
    std::vector<std::size_t> epochs;
    auto by_epoch = std::make_shared<xg::LearningRateScheduler>([&](std::size_t epoch, float) {
        epochs.push_back(epoch);
        return 1.0f / static_cast<float>(epoch + 1);
    });
    xg::FitOptions resumed = quiet(5, {by_epoch});
    resumed.initial_epoch = 3;
    s.model->fit(data.x, data.y, resumed);
    CHECK(epochs == std::vector<std::size_t>{3, 4});
    CHECK(s.model->optimizer().learning_rate() == 0.2f);
}

TEST_CASE("LearningRateScheduler names a schedule that gives no learning rate, before any step") {
    const Regression data;
    Setup s;
    const std::vector<xg::Array> before{s.net->parameters()[0].value(), s.net->parameters()[1].value()};
    auto zero = std::make_shared<xg::LearningRateScheduler>([](std::size_t, float) { return 0.0f; });
    CHECK_THROWS_WITH_AS(s.model->fit(data.x, data.y, quiet(2, {zero})),
                         "LearningRateScheduler: the schedule gave 0 for epoch 0; expected a finite learning rate > 0",
                         xg::ValueError);
    CHECK(s.net->parameters()[0].value() == before[0]);
    CHECK(s.model->optimizer().learning_rate() == 0.05f);
    CHECK_THROWS_AS(xg::LearningRateScheduler(nullptr), xg::ValueError);
}
