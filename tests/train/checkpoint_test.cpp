// Checkpoints: what a round trip restores, the errors of a checkpoint that does not fit, and
// kills: a training run killed with SIGKILL (by itself after an epoch, or by the parent at an
// arbitrary moment) resumes to exactly the losses and weights of an uninterrupted run, and a kill
// during a write leaves the previous checkpoint loadable.
#include "xgrad/train/checkpoint.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../io/scratch_dir.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/model.hpp"

namespace {

using xg::test::ScratchDir;

// Three noisy clusters in 4-D, one-hot labels; fixed by `seed`, independent of xg's engine.
struct Problem {
    xg::Array x, y;
};

Problem clusters(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> noise(0.0f, 0.5f);
    Problem p{xg::uninitialized({n, 4}), xt::zeros<float>(xg::Shape{n, 3})};
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 3;
        for (std::size_t j = 0; j < 4; ++j) p.x(i, j) = (j == c ? 1.5f : -0.5f) + noise(engine);
        p.y(i, c) = 1.0f;
    }
    return p;
}

// The same architecture under the same parameter names in every process and every test.
struct Run {
    std::shared_ptr<xg::Sequential> net;
    std::unique_ptr<xg::Model> model;
};

Run make_run(std::uint64_t seed, std::size_t inputs = 4, const std::string& optimizer = "rmsprop") {
    xg::manual_seed(seed);
    Run r;
    r.net = std::make_shared<xg::Sequential>();
    r.net->emplace<xg::Dense>(inputs, 8, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    r.net->emplace<xg::Dense>(8, 3, xg::DenseOptions{.activation = "softmax", .name = "out"});
    r.model = std::make_unique<xg::Model>(r.net);
    if (optimizer == "rmsprop") {
        r.model->compile(std::make_shared<xg::RMSprop>(r.net->parameters(), xg::RMSpropOptions{.learning_rate = 0.01f}),
                         "categorical_crossentropy", {"accuracy"});
    } else {
        r.model->compile(optimizer, "categorical_crossentropy", {"accuracy"});
    }
    return r;
}

xg::FitOptions quiet(std::size_t epochs) {
    xg::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 16;
    o.verbose = 0;
    return o;
}

std::vector<xg::Array> weights_of(const Run& r) {
    std::vector<xg::Array> out;
    for (auto& t : r.net->parameters()) out.push_back(t.value());
    return out;
}

std::vector<xg::Array> slots_of(xg::Model& m) {
    std::vector<xg::Array> out;
    for (auto& [name, a] : m.optimizer().state()) out.push_back(*a);
    return out;
}

constexpr std::uint64_t seed = 42;
constexpr std::size_t total_epochs = 8;

// The reference: `epochs` epochs in one go.
struct Outcome {
    std::map<std::string, std::vector<double>> values;
    std::vector<xg::Array> weights;
};

Outcome uninterrupted(const Problem& data, std::size_t epochs) {
    Run r = make_run(seed);
    const xg::History h = r.model->fit(data.x, data.y, quiet(epochs));
    return {h.values, weights_of(r)};
}

// Resumes from `dir` in a model built with another seed (everything that matters must come from the
// checkpoint) and trains up to `epochs`; returns what the run as a whole recorded.
Outcome resume(const Problem& data, const std::string& dir, std::size_t epochs, std::size_t* resumed_at = nullptr) {
    Run r = make_run(seed + 1000);
    const auto info = xg::load_checkpoint(dir, *r.model);
    REQUIRE(info.has_value());
    if (resumed_at) *resumed_at = info->epochs_done;
    auto checkpoints = std::make_shared<xg::CheckpointCallback>(dir, info->history);
    xg::FitOptions o = quiet(epochs);
    o.initial_epoch = info->epochs_done;
    o.callbacks = {checkpoints};
    r.model->fit(data.x, data.y, o);
    return {checkpoints->history().values, weights_of(r)};
}

// Runs `body` in a child process that never returns into the test runner.
template <class Body>
pid_t fork_child(Body body) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            body();
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(0);
    }
    return pid;
}

// The epochs_done of the checkpoint in `dir`, or -1 while there is none.
long checkpoint_epoch(const std::string& dir) {
    try {
        return nlohmann::json::parse(xg::read_manifest(xg::checkpoint_path(dir)))["metadata"]["epochs_done"].get<long>();
    } catch (const xg::IoError&) {
        return -1;
    }
}

}  // namespace

TEST_CASE("a round trip restores weights, optimizer slots, step count, learning rate, random state and history") {
    xg::set_num_threads(1);
    const ScratchDir dir;
    const Problem data = clusters(48, 1);
    for (const std::string optimizer : {"rmsprop", "adam", "sgd"}) {
        CAPTURE(optimizer);
        Run a = make_run(seed, 4, optimizer);
        const xg::History h = a.model->fit(data.x, data.y, quiet(2));
        a.model->optimizer().set_learning_rate(0.0042f);
        xg::manual_seed(77);
        xg::save_checkpoint(dir / optimizer, *a.model, 2, h);
        const std::string state = xg::random_state();

        Run b = make_run(seed + 1, 4, optimizer);
        xg::manual_seed(5);
        const auto info = xg::load_checkpoint(dir / optimizer, *b.model);
        REQUIRE(info.has_value());
        CHECK(info->epochs_done == 2);
        CHECK(info->history.values == h.values);
        CHECK(info->history.epoch_seconds == h.epoch_seconds);
        CHECK(weights_of(b) == weights_of(a));
        CHECK(slots_of(*b.model) == slots_of(*a.model));
        CHECK(b.model->optimizer().iterations() == a.model->optimizer().iterations());
        CHECK(b.model->optimizer().iterations() == 6);
        CHECK(b.model->optimizer().learning_rate() == 0.0042f);
        CHECK(xg::random_state() == state);
    }
}

TEST_CASE("the checkpoint is one .npz with a manifest: model/ and optimizer/ arrays plus metadata") {
    const ScratchDir dir;
    Run r = make_run(seed);
    xg::History h;
    h.add({{"loss", 0.5}, {"val_loss", std::numeric_limits<double>::infinity()}}, 1.25);
    xg::save_checkpoint(dir / "run", *r.model, 1, h);
    CHECK(std::filesystem::exists(dir / "run/checkpoint.npz"));
    CHECK(xg::checkpoint_path(dir / "run") == dir / "run/checkpoint.npz");
    const nlohmann::json manifest = nlohmann::json::parse(xg::read_manifest(dir / "run/checkpoint.npz"));
    std::vector<std::string> names;
    for (const auto& p : manifest["parameters"]) names.push_back(p["name"]);
    CHECK(names == std::vector<std::string>{"model/hidden/kernel", "model/hidden/bias", "model/out/kernel",
                                            "model/out/bias", "optimizer/rms/hidden/kernel", "optimizer/rms/hidden/bias",
                                            "optimizer/rms/out/kernel", "optimizer/rms/out/bias"});
    const nlohmann::json& meta = manifest["metadata"];
    CHECK(meta["format"] == "xgrad.checkpoint");
    CHECK(meta["epochs_done"] == 1);
    CHECK(meta["optimizer"]["kind"] == "RMSprop");
    CHECK(meta["history"]["values"]["loss"][0] == 0.5);
    // A non-finite value is stored as null and read back as NaN.
    CHECK(meta["history"]["values"]["val_loss"][0].is_null());
    Run other = make_run(seed);
    const auto info = xg::load_checkpoint(dir / "run", *other.model);
    REQUIRE(info.has_value());
    CHECK(std::isnan(info->history["val_loss"][0]));
    CHECK(dir.entries() == std::vector<std::string>{"run"});
}

TEST_CASE("no checkpoint yet: load_checkpoint returns nothing and changes nothing") {
    const ScratchDir dir;
    Run r = make_run(seed);
    const auto before = weights_of(r);
    CHECK_FALSE(xg::load_checkpoint(dir / "missing", *r.model).has_value());
    std::filesystem::create_directory(dir / "empty");
    CHECK_FALSE(xg::load_checkpoint(dir / "empty", *r.model).has_value());
    CHECK(weights_of(r) == before);
}

TEST_CASE("a checkpoint of another model is an IoError naming the parameter and both shapes, and changes nothing") {
    const ScratchDir dir;
    Run small = make_run(seed, 4);
    xg::save_checkpoint(dir / "run", *small.model, 3, {});
    Run wide = make_run(seed + 1, 5);
    const auto before = weights_of(wide);
    const auto slots_before = slots_of(*wide.model);
    const std::string state = xg::random_state();
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *wide.model),
                         doctest::Contains("parameter 'model/hidden/kernel' has shape (4, 8) in the file; expected (5, 8)"),
                         xg::IoError);
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *wide.model), doctest::Contains("load_checkpoint: "),
                         xg::IoError);
    CHECK(weights_of(wide) == before);
    CHECK(slots_of(*wide.model) == slots_before);
    CHECK(wide.model->optimizer().iterations() == 0);
    CHECK(xg::random_state() == state);

    Run adam = make_run(seed, 4, "adam");
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *adam.model),
                         doctest::Contains("checkpoint holds RMSprop optimizer state; expected the model's optimizer, Adam"),
                         xg::IoError);
}

TEST_CASE("a model with a frozen layer resumes from its checkpoint; one frozen differently is refused by name") {
    const ScratchDir dir;
    auto frozen_run = [](std::uint64_t s) {
        xg::manual_seed(s);
        Run r;
        r.net = std::make_shared<xg::Sequential>();
        r.net->emplace<xg::Dense>(4, 8, xg::DenseOptions{.activation = "relu", .name = "hidden"});
        r.net->emplace<xg::Dense>(8, 3, xg::DenseOptions{.activation = "softmax", .name = "out"});
        r.net->children().at(0)->set_trainable(false);
        r.model = std::make_unique<xg::Model>(r.net);
        r.model->compile("rmsprop", "categorical_crossentropy");
        return r;
    };
    Run saved = frozen_run(seed);
    const Problem data = clusters(16, 6);
    saved.model->fit(data.x, data.y, quiet(1));
    xg::save_checkpoint(dir / "run", *saved.model, 1, {});
    Run same = frozen_run(seed + 1);
    REQUIRE(xg::load_checkpoint(dir / "run", *same.model).has_value());
    CHECK(weights_of(same) == weights_of(saved));
    CHECK(slots_of(*same.model) == slots_of(*saved.model));

    Run unfrozen = make_run(seed + 1);  // every parameter trainable: slots the file does not hold
    const auto before = weights_of(unfrozen);
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *unfrozen.model), doctest::Contains("optimizer/rms/hidden/kernel"),
                         xg::IoError);
    CHECK(weights_of(unfrozen) == before);
}

TEST_CASE("a weights file is not a checkpoint, and a damaged checkpoint is an error rather than a fresh start") {
    const ScratchDir dir;
    Run r = make_run(seed);
    std::filesystem::create_directory(dir / "weights");
    xg::save_weights(*r.net, dir / "weights/checkpoint.npz");
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "weights", *r.model), doctest::Contains("not a checkpoint"),
                         xg::IoError);

    xg::save_checkpoint(dir / "run", *r.model, 1, {});
    const std::string bytes = xg::test::read_bytes(dir / "run/checkpoint.npz");
    xg::test::write_bytes(dir / "run/checkpoint.npz", bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_AS(xg::load_checkpoint(dir / "run", *r.model), xg::IoError);
    std::string flipped = bytes;
    flipped[200] = static_cast<char>(flipped[200] ^ 0x40);
    xg::test::write_bytes(dir / "run/checkpoint.npz", flipped);
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *r.model), doctest::Contains("load_checkpoint: "), xg::IoError);

    // Metadata that does not hang together: two losses for one epoch.
    xg::History uneven;
    uneven.values["loss"] = {0.5, 0.4};
    uneven.epoch_seconds = {1.0};
    xg::save_checkpoint(dir / "uneven", *r.model, 1, uneven);
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "uneven", *r.model),
                         doctest::Contains("checkpoint metadata has 2 history \"loss\" values for 1 epochs"), xg::IoError);
}

TEST_CASE("a checkpoint whose learning rate a float cannot hold is an IoError, and changes nothing") {
    // Found while writing the checkpoint fuzz target: 1e-50 is a positive double but 0 as a float, and the
    // optimizer refused it with a ValueError after the weights had been overwritten.
    const ScratchDir dir;
    Run trained = make_run(seed);
    xg::save_checkpoint(dir / "run", *trained.model, 1, {});
    const nlohmann::json manifest = nlohmann::json::parse(xg::read_manifest(dir / "run/checkpoint.npz"));
    xg::NamedTensors arrays;  // the checkpoint's names and shapes, other values
    for (const auto& p : manifest["parameters"]) {
        arrays.emplace_back(p["name"], xg::Tensor(xg::Array(xt::ones<float>(p["shape"].get<std::vector<std::size_t>>()))));
    }
    Run r = make_run(seed + 1);
    const auto before = weights_of(r);
    const auto slots_before = slots_of(*r.model);
    const std::string state = xg::random_state();
    for (double lr : {1e-50, 1e300, -1e-3, 0.0}) {
        nlohmann::json meta = manifest["metadata"];
        meta["optimizer"]["learning_rate"] = lr;
        xg::save_weights(arrays, dir / "run/checkpoint.npz", meta.dump());
        INFO("learning rate " << lr);
        CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "run", *r.model),
                             doctest::Contains("(not a finite float32 > 0)"), xg::IoError);
        CHECK(weights_of(r) == before);
        CHECK(slots_of(*r.model) == slots_before);
        CHECK(r.model->optimizer().iterations() == 0);
        CHECK(xg::random_state() == state);
    }
}

TEST_CASE("a folder that cannot hold a checkpoint is an IoError naming it, before the first epoch") {
    const ScratchDir dir;
    xg::test::write_bytes(dir / "a-file", "x");
    Run r = make_run(seed);
    const Problem data = clusters(16, 6);
    std::size_t epochs_run = 0;
    xg::FitOptions o = quiet(2);
    o.callbacks = {std::make_shared<xg::CheckpointCallback>(dir / "a-file/run"),
                   std::make_shared<xg::LambdaCallback>([&](xg::Model&, std::size_t, const xg::Logs&) { ++epochs_run; })};
    CHECK_THROWS_WITH_AS(r.model->fit(data.x, data.y, o),
                         doctest::Contains(("CheckpointCallback: " + dir / "a-file/run" + ": cannot create the folder").c_str()),
                         xg::IoError);
    CHECK(epochs_run == 0);
    CHECK_THROWS_WITH_AS(xg::prepare_checkpoint_dir(dir / "a-file"), doctest::Contains("prepare_checkpoint_dir: "),
                         xg::IoError);
    CHECK_THROWS_WITH_AS(xg::save_checkpoint(dir / "a-file", *r.model, 1, {}), doctest::Contains("save_checkpoint: "),
                         xg::IoError);
    CHECK_THROWS_WITH_AS(xg::load_checkpoint(dir / "a-file", *r.model),
                         doctest::Contains(("load_checkpoint: " + dir / "a-file" + " is not a folder").c_str()), xg::IoError);
    // A folder that does not exist yet is created, and the probe leaves nothing in it.
    xg::prepare_checkpoint_dir(dir / "new/run");
    CHECK(std::filesystem::is_empty(dir / "new/run"));
}

TEST_CASE("CheckpointCallback writes after every epoch and continues the history it was given") {
    const ScratchDir dir;
    const Problem data = clusters(32, 2);
    Run r = make_run(seed);
    xg::History earlier;
    earlier.add({{"loss", 9.0}, {"accuracy", 0.1}}, 0.5);
    auto checkpoints = std::make_shared<xg::CheckpointCallback>(dir / "run", earlier);
    std::vector<long> seen;
    auto probe = std::make_shared<xg::LambdaCallback>(
        [&](xg::Model&, std::size_t, const xg::Logs&) { seen.push_back(checkpoint_epoch(dir / "run")); });
    xg::FitOptions o = quiet(4);
    o.initial_epoch = 1;
    o.callbacks = {checkpoints, probe};
    const xg::History h = r.model->fit(data.x, data.y, o);
    CHECK(seen == std::vector<long>{2, 3, 4});
    CHECK(checkpoints->history().epochs() == 4);
    CHECK(checkpoints->history()["loss"][0] == 9.0);
    CHECK(std::vector<double>(checkpoints->history()["loss"].begin() + 1, checkpoints->history()["loss"].end()) ==
          h["loss"]);
    CHECK_THROWS_AS(xg::CheckpointCallback(""), xg::ValueError);
}

TEST_CASE("a run that kills itself with SIGKILL after epoch 3 resumes to exactly the uninterrupted run's losses and weights") {
    xg::set_num_threads(1);  // one thread: sums in a fixed order, so runs compare bit for bit
    const ScratchDir dir;
    const Problem data = clusters(60, 3);
    const Outcome reference = uninterrupted(data, total_epochs);

    const pid_t pid = fork_child([&] {
        Run r = make_run(seed);
        xg::FitOptions o = quiet(total_epochs);
        o.callbacks = {std::make_shared<xg::CheckpointCallback>(dir / "run"),
                       std::make_shared<xg::LambdaCallback>([](xg::Model&, std::size_t epoch, const xg::Logs&) {
                           if (epoch + 1 == 3) ::raise(SIGKILL);
                       })};
        r.model->fit(data.x, data.y, o);
    });
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(checkpoint_epoch(dir / "run") == 3);

    std::size_t resumed_at = 0;
    const Outcome resumed = resume(data, dir / "run", total_epochs, &resumed_at);
    CHECK(resumed_at == 3);
    REQUIRE(resumed.values.at("loss").size() == total_epochs);
    CHECK(resumed.values == reference.values);
    CHECK(resumed.weights == reference.weights);
    CHECK(checkpoint_epoch(dir / "run") == static_cast<long>(total_epochs));
}

namespace {

// Dense -> BatchNormalization -> Dropout -> Dense: moving statistics (buffers) and dropout's
// draws from the random engine must both survive a kill.
Run make_normalized_run(std::uint64_t seed) {
    xg::manual_seed(seed);
    Run r;
    r.net = std::make_shared<xg::Sequential>();
    r.net->emplace<xg::Dense>(4, 8, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    r.net->emplace<xg::BatchNormalization>(8, xg::BatchNormalizationOptions{.momentum = 0.9f, .name = "norm"});
    r.net->emplace<xg::Dropout>(0.3f, "drop");
    r.net->emplace<xg::Dense>(8, 3, xg::DenseOptions{.activation = "softmax", .name = "out"});
    r.model = std::make_unique<xg::Model>(r.net);
    r.model->compile(std::make_shared<xg::RMSprop>(r.net->parameters(), xg::RMSpropOptions{.learning_rate = 0.01f}),
                     "categorical_crossentropy", {"accuracy"});
    return r;
}

std::vector<xg::Array> state_of(const Run& r) {
    std::vector<xg::Array> out;
    for (auto& [name, t] : r.net->named_state()) out.push_back(t.value());
    return out;
}

}  // namespace

TEST_CASE("a BatchNormalization and Dropout model killed after epoch 3 resumes bit-identically, moving statistics included") {
    xg::set_num_threads(1);
    const ScratchDir dir;
    const Problem data = clusters(60, 5);
    Run reference = make_normalized_run(seed);
    const xg::History reference_history = reference.model->fit(data.x, data.y, quiet(total_epochs));
    // The statistics moved: a checkpoint without them would not resume to the same state.
    CHECK(reference.net->named_buffers()[0].second.value() != xt::zeros<float>({8}));

    const pid_t pid = fork_child([&] {
        Run r = make_normalized_run(seed);
        xg::FitOptions o = quiet(total_epochs);
        o.callbacks = {std::make_shared<xg::CheckpointCallback>(dir / "run"),
                       std::make_shared<xg::LambdaCallback>([](xg::Model&, std::size_t epoch, const xg::Logs&) {
                           if (epoch + 1 == 3) ::raise(SIGKILL);
                       })};
        r.model->fit(data.x, data.y, o);
    });
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(checkpoint_epoch(dir / "run") == 3);
    const nlohmann::json manifest = nlohmann::json::parse(xg::read_manifest(xg::checkpoint_path(dir / "run")));
    bool has_moving_variance = false;
    for (const auto& p : manifest["parameters"]) has_moving_variance |= p["name"] == "model/norm/moving_variance";
    CHECK(has_moving_variance);

    Run r = make_normalized_run(seed + 1000);
    const auto info = xg::load_checkpoint(dir / "run", *r.model);
    REQUIRE(info.has_value());
    auto checkpoints = std::make_shared<xg::CheckpointCallback>(dir / "run", info->history);
    xg::FitOptions o = quiet(total_epochs);
    o.initial_epoch = info->epochs_done;
    o.callbacks = {checkpoints};
    r.model->fit(data.x, data.y, o);
    CHECK(checkpoints->history().values == reference_history.values);
    CHECK(state_of(r) == state_of(reference));
}

TEST_CASE("a run the parent kills at an arbitrary moment resumes to exactly the uninterrupted run's result") {
    xg::set_num_threads(1);
    const ScratchDir dir;
    const Problem data = clusters(60, 4);

    // The child trains "forever", a little slowly; the parent kills it once a few checkpoints exist,
    // wherever it is: inside a step, a write or a rename.
    const pid_t pid = fork_child([&] {
        Run r = make_run(seed);
        xg::FitOptions o = quiet(1000000);
        o.callbacks = {std::make_shared<xg::CheckpointCallback>(dir / "run"),
                       std::make_shared<xg::LambdaCallback>([](xg::Model&, std::size_t, const xg::Logs&) {
                           std::this_thread::sleep_for(std::chrono::milliseconds(2));
                       })};
        r.model->fit(data.x, data.y, o);
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool exited_early = false;
    while (checkpoint_epoch(dir / "run") < 4) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            exited_early = true;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE_FALSE(exited_early);
    REQUIRE(WIFSIGNALED(status));

    std::size_t resumed_at = 0;
    const long found = checkpoint_epoch(dir / "run");
    REQUIRE(found >= 4);
    const std::size_t epochs = static_cast<std::size_t>(found) + 3;
    const Outcome resumed = resume(data, dir / "run", epochs, &resumed_at);
    CHECK(resumed_at == static_cast<std::size_t>(found));
    const Outcome reference = uninterrupted(data, epochs);
    CHECK(resumed.values == reference.values);
    CHECK(resumed.weights == reference.weights);
}

TEST_CASE("kills in the middle of checkpoint writes always leave a whole, loadable checkpoint") {
    xg::set_num_threads(1);
    const ScratchDir dir;
    // A larger model, so that most of the child's time goes into writing (~1.5 MB per checkpoint).
    std::mt19937 rng(11);
    int mid_write = 0;
    constexpr int trials = 12;
    for (int trial = 0; trial < trials; ++trial) {
        CAPTURE(trial);
        const std::string run_dir = dir / ("run" + std::to_string(trial));
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        const pid_t pid = fork_child([&] {
            ::close(ready[0]);
            Run r = make_run(seed, 16384);
            for (std::size_t epoch = 1;; ++epoch) {
                // Every array holds the epoch number, so a mix of two checkpoints would show.
                for (auto& t : r.net->parameters()) t.mutable_value().fill(static_cast<float>(epoch));
                for (auto& [name, slot] : r.model->optimizer().state()) slot->fill(static_cast<float>(epoch));
                r.model->optimizer().set_iterations(epoch);
                xg::save_checkpoint(run_dir, *r.model, epoch, {});
                if (epoch == 1) {
                    const char byte = 1;
                    if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
                }
            }
        });
        ::close(ready[1]);
        char byte = 0;
        const bool started = ::read(ready[0], &byte, 1) == 1;
        ::close(ready[0]);
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30000)(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(started);
        REQUIRE(WIFSIGNALED(status));

        // A temporary file beside the checkpoint: the kill came during a write.
        if (std::distance(std::filesystem::directory_iterator(run_dir), std::filesystem::directory_iterator()) > 1) {
            ++mid_write;
        }
        Run loaded = make_run(seed + 1, 16384);
        const auto info = xg::load_checkpoint(run_dir, *loaded.model);
        REQUIRE(info.has_value());
        const float epoch = static_cast<float>(info->epochs_done);
        CHECK(info->epochs_done >= 1);
        CHECK(loaded.model->optimizer().iterations() == info->epochs_done);
        for (const auto& w : weights_of(loaded)) CHECK(xt::all(xt::equal(w, epoch)));
        for (const auto& s : slots_of(*loaded.model)) CHECK(xt::all(xt::equal(s, epoch)));
    }
    MESSAGE(mid_write << " of " << trials << " kills landed during a write");
}

TEST_CASE("a leftover temporary file or a planted truncated one does not hide the previous checkpoint") {
    const ScratchDir dir;
    const Problem data = clusters(30, 5);
    Run r = make_run(seed);
    xg::History h = r.model->fit(data.x, data.y, quiet(2));
    xg::save_checkpoint(dir / "run", *r.model, 2, h);
    const auto at_two = weights_of(r);
    // What a kill during the next write leaves: the new file, cut short, under a temporary name.
    r.model->fit(data.x, data.y, quiet(1));
    xg::save_checkpoint(dir / "next", *r.model, 3, h);
    const std::string newer = xg::test::read_bytes(dir / "next/checkpoint.npz");
    xg::test::write_bytes(dir / "run/.checkpoint.npz.0123456789ab0001.tmp", newer.substr(0, newer.size() / 3));
    xg::test::write_bytes(dir / "run/.checkpoint.npz.0123456789ab0002.tmp", "");

    Run loaded = make_run(seed + 1);
    const auto info = xg::load_checkpoint(dir / "run", *loaded.model);
    REQUIRE(info.has_value());
    CHECK(info->epochs_done == 2);
    CHECK(weights_of(loaded) == at_two);

    // The next successful save clears the leftovers away.
    xg::save_checkpoint(dir / "run", *loaded.model, 2, info->history);
    std::vector<std::string> entries;
    for (const auto& e : std::filesystem::directory_iterator(dir / "run")) entries.push_back(e.path().filename().string());
    CHECK(entries == std::vector<std::string>{"checkpoint.npz"});
}
