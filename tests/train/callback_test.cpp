// Callbacks: the order fit() calls them in, LambdaCallback, changing the learning rate
// between epochs, and EarlyStopping (patience, min_delta, modes, restoring the best weights).
#include "xgrad/train/callback.hpp"

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "regression_fixture.hpp"
#include "xgrad/core/error.hpp"

namespace {

using fixture::quiet;
using fixture::Regression;
using fixture::Setup;

// Records every call as text.
class Recorder : public xg::Callback {
public:
    std::vector<std::string> events;
    void on_train_begin(xg::Model&) override { events.push_back("train_begin"); }
    void on_epoch_begin(xg::Model&, std::size_t epoch) override { events.push_back("epoch_begin " + std::to_string(epoch)); }
    void on_epoch_end(xg::Model&, std::size_t epoch, const xg::Logs& logs) override {
        events.push_back("epoch_end " + std::to_string(epoch) + (xg::has_log(logs, "loss") ? " loss" : ""));
    }
    void on_train_end(xg::Model&) override { events.push_back("train_end"); }
};

std::vector<xg::Array> weights(xg::Module& m) {
    std::vector<xg::Array> out;
    for (auto& p : m.parameters()) out.push_back(p.value());
    return out;
}

}  // namespace

namespace {

// Passes an epoch's loss on to `inner` under another key.
class Renamer : public xg::Callback {
public:
    Renamer(std::shared_ptr<xg::Callback> inner, std::string key) : inner_(std::move(inner)), key_(std::move(key)) {}
    void on_train_begin(xg::Model& m) override { inner_->on_train_begin(m); }
    void on_epoch_end(xg::Model& m, std::size_t epoch, const xg::Logs& logs) override {
        inner_->on_epoch_end(m, epoch, {{key_, xg::log_value(logs, "loss")}});
    }
    void on_train_end(xg::Model& m) override { inner_->on_train_end(m); }

private:
    std::shared_ptr<xg::Callback> inner_;
    std::string key_;
};

}  // namespace

TEST_CASE("fit calls callbacks at train and epoch boundaries, in order") {
    const Regression data;
    Setup s;
    auto recorder = std::make_shared<Recorder>();
    s.model->fit(data.x, data.y, quiet(2, {recorder}));
    CHECK(recorder->events == std::vector<std::string>{"train_begin", "epoch_begin 0", "epoch_end 0 loss", "epoch_begin 1",
                                                       "epoch_end 1 loss", "train_end"});
}

TEST_CASE("LambdaCallback runs once per epoch with the epoch's logs") {
    const Regression data;
    Setup s;
    std::vector<std::size_t> epochs;
    std::vector<double> losses;
    auto lambda = std::make_shared<xg::LambdaCallback>([&](xg::Model&, std::size_t epoch, const xg::Logs& logs) {
        epochs.push_back(epoch);
        losses.push_back(xg::log_value(logs, "loss"));
    });
    const xg::History history = s.model->fit(data.x, data.y, quiet(4, {lambda}));
    CHECK(epochs == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(losses == history["loss"]);
}

TEST_CASE("a callback that calls stop_training ends fit after the current epoch") {
    const Regression data;
    Setup s;
    auto stopper = std::make_shared<xg::LambdaCallback>([](xg::Model& m, std::size_t epoch, const xg::Logs&) {
        if (epoch == 1) m.stop_training();
    });
    CHECK(s.model->fit(data.x, data.y, quiet(10, {stopper})).epochs() == 2);
    // The request does not carry over to the next fit.
    CHECK(s.model->fit(data.x, data.y, quiet(3, {})).epochs() == 3);
}

TEST_CASE("a callback can change the learning rate between epochs") {
    const Regression data;
    Setup s(0.05f);
    std::vector<float> rates;
    std::vector<std::vector<xg::Array>> after;
    auto schedule = std::make_shared<xg::LambdaCallback>([&](xg::Model& m, std::size_t epoch, const xg::Logs&) {
        rates.push_back(m.optimizer().learning_rate());
        after.push_back(weights(m.network()));
        // From epoch 1 on, steps are too small to change a float weight of this size.
        if (epoch == 0) m.optimizer().set_learning_rate(1e-30f);
    });
    s.model->fit(data.x, data.y, quiet(3, {schedule}));
    REQUIRE(rates.size() == 3);
    CHECK(rates[0] == 0.05f);
    CHECK(rates[1] == 1e-30f);
    CHECK(after[1] == after[0]);
    CHECK(after[2] == after[0]);
    CHECK(s.model->optimizer().iterations() == 12);
}

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement") {
    const Regression data;
    // The loss decreases every epoch, so in max mode only the first epoch is an improvement.
    for (std::size_t patience : {0, 1, 3}) {
        CAPTURE(patience);
        Setup s;
        auto stop = std::make_shared<xg::EarlyStopping>(
            xg::EarlyStoppingOptions{.monitor = "loss", .patience = patience, .mode = "max"});
        const xg::History history = s.model->fit(data.x, data.y, quiet(20, {stop}));
        // As in Keras: stopped at the epoch where `patience` epochs in a row did not improve
        // (patience 0 stops at the first such epoch, like 1).
        const std::size_t expected_epochs = std::max<std::size_t>(patience, 1) + 1;
        CHECK(history.epochs() == expected_epochs);
        CHECK(stop->stopped_epoch() == static_cast<long>(expected_epochs - 1));
        REQUIRE(history["loss"].size() >= 2);
        CHECK(history["loss"][1] < history["loss"][0]);
    }
}

TEST_CASE("EarlyStopping keeps going while the monitored value improves") {
    const Regression data;
    Setup s;
    auto stop = std::make_shared<xg::EarlyStopping>(xg::EarlyStoppingOptions{.monitor = "loss", .patience = 1});
    CHECK(s.model->fit(data.x, data.y, quiet(6, {stop})).epochs() == 6);
    CHECK(stop->stopped_epoch() == -1);
}

TEST_CASE("EarlyStopping's min_delta: smaller changes are not improvements") {
    const Regression data;
    Setup s;
    auto stop = std::make_shared<xg::EarlyStopping>(
        xg::EarlyStoppingOptions{.monitor = "loss", .min_delta = 1e6, .patience = 2, .mode = "min"});
    CHECK(s.model->fit(data.x, data.y, quiet(20, {stop})).epochs() == 3);
}

TEST_CASE("EarlyStopping's auto mode maximises accuracy-like keys, the cosine similarity, precision, recall and AUC, minimises the rest") {
    const Regression data;
    Setup s;
    // "val_acc" does not exist in these logs: naming it is an error that lists what does.
    auto missing = std::make_shared<xg::EarlyStopping>(xg::EarlyStoppingOptions{.monitor = "val_acc"});
    CHECK_THROWS_AS(s.model->fit(data.x, data.y, quiet(2, {missing})), xg::ValueError);
    CHECK_THROWS_AS(xg::EarlyStopping(xg::EarlyStoppingOptions{.mode = "lowest"}), xg::ValueError);

    // A metric-free model logs only "loss" (which falls epoch after epoch); monitored under
    // another key through a callback that renames it, auto mode maximises accuracy-like keys,
    // the cosine similarity, precision, recall and AUC, so the falling value stops training as
    // in max mode, and minimises the rest.
    for (const char* key : {"my_accuracy", "val_cosine_similarity", "val_auc", "precision", "val_recall", "val_mae"}) {
        CAPTURE(std::string(key));
        auto stop = std::make_shared<xg::EarlyStopping>(xg::EarlyStoppingOptions{.monitor = key, .patience = 2});
        const std::size_t epochs = s.model->fit(data.x, data.y, quiet(20, {std::make_shared<Renamer>(stop, key)})).epochs();
        CHECK(epochs == (std::string(key) == "val_mae" ? 20 : 3));
    }
}

TEST_CASE("EarlyStopping with restore_best_weights puts back the best epoch's weights") {
    const Regression data;
    for (bool restore : {false, true}) {
        CAPTURE(restore);
        Setup s;
        std::vector<std::vector<xg::Array>> per_epoch;
        auto snapshot = std::make_shared<xg::LambdaCallback>(
            [&](xg::Model& m, std::size_t, const xg::Logs&) { per_epoch.push_back(weights(m.network())); });
        auto stop = std::make_shared<xg::EarlyStopping>(
            xg::EarlyStoppingOptions{.monitor = "loss", .patience = 2, .mode = "max", .restore_best_weights = restore});
        s.model->fit(data.x, data.y, quiet(20, {snapshot, stop}));
        REQUIRE(per_epoch.size() == 3);
        REQUIRE(per_epoch[2] != per_epoch[0]);
        // The best (largest) loss was epoch 0's.
        CHECK((weights(s.model->network()) == per_epoch[0]) == restore);
        CHECK((weights(s.model->network()) == per_epoch[2]) == !restore);
    }
}

TEST_CASE("EarlyStopping starts afresh at each fit") {
    const Regression data;
    Setup s;
    auto stop = std::make_shared<xg::EarlyStopping>(xg::EarlyStoppingOptions{.monitor = "loss", .patience = 1, .mode = "max"});
    CHECK(s.model->fit(data.x, data.y, quiet(20, {stop})).epochs() == 2);
    CHECK(s.model->fit(data.x, data.y, quiet(20, {stop})).epochs() == 2);
    CHECK(stop->stopped_epoch() == 1);
}
