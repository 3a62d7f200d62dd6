// DataParallel (lib/xgrad/train/data_parallel.hpp) over the world of an MPI job, and over
// threads standing in for processes, so that groups of 2 and 3 are tested in a plain run too:
// data-parallel training takes the steps and reports the figures of one process training on
// whole batches, identical on every process.
#include "xgrad/train/data_parallel.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include "../io/scratch_dir.hpp"
#include "../train/quiet_fit.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/dist/communicator.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/learning_rate_callbacks.hpp"
#include "xgrad/train/loss.hpp"
#include "xgrad/train/model.hpp"

namespace {

// `size` threads as a process group. Each collective meets at a barrier around pointers to
// the members' buffers and sums in rank order, so every member gets the same bits. A member
// that throws, or returns while others still call, releases the rest with an error instead
// of leaving them waiting.
class ThreadGroup {
public:
    explicit ThreadGroup(std::size_t size)
        : size_(size), barrier_(static_cast<std::ptrdiff_t>(size), PhaseEnd{this}), slots_(size) {}

    class Member final : public xg::Collectives {
    public:
        Member(ThreadGroup& group, std::size_t rank) : group_(group), rank_(rank) {}
        std::size_t rank() const override { return rank_; }
        std::size_t size() const override { return group_.size_; }
        void broadcast(std::span<float> v) override { broadcast_values(v); }
        void broadcast(std::span<double> v) override { broadcast_values(v); }
        void broadcast(std::span<std::size_t> v) override { broadcast_values(v); }
        void sum(std::span<float> v) override { sum_values(v); }
        void sum(std::span<double> v) override { sum_values(v); }

    private:
        template <class T>
        void broadcast_values(std::span<T> values) {
            group_.slots_[rank_] = values.data();
            group_.meet();
            if (rank_ != 0) std::copy_n(static_cast<const T*>(group_.slots_[0]), values.size(), values.data());
            group_.meet();
        }
        template <class T>
        void sum_values(std::span<T> values) {
            const std::vector<T> mine(values.begin(), values.end());
            group_.slots_[rank_] = mine.data();
            group_.meet();
            for (std::size_t i = 0; i < values.size(); ++i) {
                T total = 0;
                for (std::size_t r = 0; r < group_.size_; ++r) total += static_cast<const T*>(group_.slots_[r])[i];
                values[i] = total;
            }
            group_.meet();
        }

        ThreadGroup& group_;
        std::size_t rank_;
    };

    /// Runs body(member) on one thread per member; rethrows the first member's exception.
    template <class Body>
    void run(Body body) {
        std::vector<std::thread> threads;
        for (std::size_t r = 0; r < size_; ++r) {
            threads.emplace_back([this, r, &body] {
                try {
                    body(std::make_shared<Member>(*this, r));
                } catch (...) {
                    std::lock_guard lock(mutex_);
                    if (!error_) error_ = std::current_exception();
                }
                done_ = true;
                barrier_.arrive_and_drop();
            });
        }
        for (auto& t : threads) t.join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    // Runs once per phase, before any member is released: whether a member had left by then.
    struct PhaseEnd {
        ThreadGroup* group;
        void operator()() noexcept { group->abandoned_ = group->done_.load(); }
    };

    void meet() {
        barrier_.arrive_and_wait();
        if (abandoned_) throw std::logic_error("ThreadGroup: a member stopped while others still made collective calls");
    }

    std::size_t size_;
    std::barrier<PhaseEnd> barrier_;
    std::vector<const void*> slots_;
    std::atomic<bool> done_ = false;
    bool abandoned_ = false;
    std::mutex mutex_;
    std::exception_ptr error_;
};

// Stands for process `rank` of `size` where no collective is called (shard).
class FixedRank final : public xg::Collectives {
public:
    FixedRank(std::size_t rank, std::size_t size) : rank_(rank), size_(size) {}
    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return size_; }
    void broadcast(std::span<float>) override { unused(); }
    void broadcast(std::span<double>) override { unused(); }
    void broadcast(std::span<std::size_t>) override { unused(); }
    void sum(std::span<float>) override { unused(); }
    void sum(std::span<double>) override { unused(); }

private:
    [[noreturn]] static void unused() { throw std::logic_error("FixedRank: no collectives here"); }
    std::size_t rank_, size_;
};

// n samples of 6 Gaussian features in 3 classes given by a fixed linear rule plus noise.
struct Problem {
    xg::Array x, y;
};

Problem make_problem(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    Problem p{xg::uninitialized({n, 6}), xt::zeros<float>({n, std::size_t{3}})};
    for (std::size_t i = 0; i < n; ++i) {
        float score[3] = {0, 0, 0};
        for (std::size_t j = 0; j < 6; ++j) {
            p.x(i, j) = normal(rng);
            score[j % 3] += p.x(i, j) * (j < 3 ? 1.0f : -0.5f);
        }
        for (float& s : score) s += 0.3f * normal(rng);
        p.y(i, static_cast<std::size_t>(std::max_element(score, score + 3) - score)) = 1.0f;
    }
    return p;
}

// The same parameter names in every model, so checkpoints fit any of them.
std::unique_ptr<xg::Model> make_model(std::uint64_t seed, bool adam = false) {
    xg::manual_seed(seed);
    auto network = std::make_shared<xg::Sequential>();
    network->emplace<xg::Dense>(6, 16, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    network->emplace<xg::Dense>(16, 3, xg::DenseOptions{.activation = "softmax", .name = "out"});
    auto model = std::make_unique<xg::Model>(network);
    std::shared_ptr<xg::Optimizer> optimizer;
    if (adam) {
        optimizer = std::make_shared<xg::Adam>(network->parameters(), xg::AdamOptions{.learning_rate = 0.01f});
    } else {
        optimizer = std::make_shared<xg::RMSprop>(network->parameters(), xg::RMSpropOptions{.learning_rate = 0.01f});
    }
    model->compile(optimizer, "categorical_crossentropy", {"accuracy"});
    return model;
}

struct Run {
    xg::History history;
    std::vector<xg::Array> weights;
};

Run finish(xg::Model& model, xg::History history) {
    Run run{std::move(history), {}};
    for (auto& p : model.network().parameters()) run.weights.push_back(p.value());
    return run;
}

constexpr std::uint64_t seed = 42;

// 161 samples, 20% held out: 129 to train in batches of 32, so the last batch has one sample
// and a group of 3 has two members without samples in it; 32 validation samples split 11/11/10.
xg::FitOptions fit_options() {
    xg::FitOptions options;
    options.epochs = 3;
    options.batch_size = 32;
    options.validation_split = 0.2;
    options.verbose = 0;
    return options;
}

// The reference: one process, whole batches.
Run train_alone(const Problem& data, const xg::FitOptions& options, bool adam = false) {
    auto model = make_model(seed, adam);
    xg::History history = model->fit(data.x, data.y, options);
    return finish(*model, std::move(history));
}

// One member of a group; members other than 0 start from other weights (the broadcast fixes that).
Run train_member(const Problem& data, std::shared_ptr<xg::DataParallel> parallel, const xg::FitOptions& options,
                 bool adam = false) {
    auto model = make_model(parallel->is_root() ? seed : seed + 1 + parallel->rank(), adam);
    model->set_data_parallel(parallel);
    xg::History history = model->fit(data.x, data.y, options);
    return finish(*model, std::move(history));
}

// The ValueError message of each member of a group of `size` running body(member), "" where none.
template <class Body>
std::vector<std::string> value_errors(std::size_t size, Body body) {
    std::vector<std::string> errors(size);
    ThreadGroup(size).run([&](std::shared_ptr<xg::Collectives> member) {
        try {
            body(member);
        } catch (const xg::ValueError& e) {
            errors[member->rank()] = e.what();
        }
    });
    return errors;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-12); }

double max_abs_diff(const std::vector<xg::Array>& a, const std::vector<xg::Array>& b) {
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(xt::amax(xt::abs(a[i] - b[i]))()));
    return worst;
}

// Compares a data-parallel run with the one-process reference.
void check_matches_reference(const Run& run, const Run& reference, std::size_t validation_samples) {
    const auto& loss = run.history["loss"];
    const auto& expected = reference.history["loss"];
    REQUIRE(loss.size() == expected.size());
    CHECK(relative(loss[0], expected[0]) < 1e-4);
    for (std::size_t e = 0; e < loss.size(); ++e) CHECK(relative(loss[e], expected[e]) < 1e-3);
    CHECK(relative(run.history["val_loss"].back(), reference.history["val_loss"].back()) < 1e-3);
    // Accuracy is a count: float summation order may flip at most a borderline sample.
    CHECK(std::abs(run.history["val_accuracy"].back() - reference.history["val_accuracy"].back()) <=
          1.0 / static_cast<double>(validation_samples) + 1e-12);
    CHECK(max_abs_diff(run.weights, reference.weights) < 1e-3);
}

}  // namespace

TEST_CASE("shard gives each process a contiguous slice in rank order, sizes within one") {
    for (std::size_t p : {1, 2, 3, 4, 7}) {
        for (std::size_t n : {0, 1, 2, 5, 32, 33, 128}) {
            std::vector<std::size_t> rows(n);
            std::iota(rows.begin(), rows.end(), std::size_t{100});
            std::size_t next = 0;
            for (std::size_t r = 0; r < p; ++r) {
                const xg::DataParallel parallel(std::make_shared<FixedRank>(r, p));
                const auto slice = parallel.shard(rows);
                CHECK(slice.size() == n / p + (r < n % p ? 1 : 0));
                if (!slice.empty()) CHECK(slice.data() == rows.data() + next);
                next += slice.size();
            }
            CHECK(next == n);
        }
    }
}

TEST_CASE("DataParallel needs a group") {
    CHECK_THROWS_AS(xg::DataParallel(nullptr), xg::ValueError);
}

TEST_CASE("threads as processes: fit takes the steps of one process, identical on every member") {
    const Problem data = make_problem(161, 3);
    const Run reference = train_alone(data, fit_options());
    for (std::size_t p : {2, 3}) {
        CAPTURE(p);
        std::vector<Run> runs(p);
        ThreadGroup group(p);
        group.run([&](std::shared_ptr<xg::Collectives> member) {
            const std::size_t rank = member->rank();
            runs[rank] = train_member(data, std::make_shared<xg::DataParallel>(member), fit_options());
        });
        check_matches_reference(runs[0], reference, 32);
        for (std::size_t r = 1; r < p; ++r) {
            CHECK(runs[r].history.values == runs[0].history.values);
            CHECK(max_abs_diff(runs[r].weights, runs[0].weights) == 0.0);
        }
    }
}

TEST_CASE("threads as processes: precision, recall, AUC and top-k accuracy are the whole data's, not averages of each member's") {
    const Problem data = make_problem(101, 17);
    // A metric without sums between them: averaged as before, and the others' sums still line up.
    struct LargestPrediction : xg::Metric {
        LargestPrediction() : xg::Metric("largest") {}
        void reset() override { largest_ = 0.0; }
        void update(const xg::Array& y_pred, const xg::Array&) override {
            largest_ = std::max(largest_, static_cast<double>(xt::amax(y_pred)()));
        }
        double result() const override { return largest_; }
        double largest_ = 0.0;
    };
    auto compiled = [](std::uint64_t s) {
        auto model = make_model(s);
        model->compile("rmsprop", "categorical_crossentropy",
                       {"precision", std::make_shared<LargestPrediction>(), "recall", "auc", std::make_shared<xg::TopKAccuracy>(2)});
        return model;
    };
    const xg::Logs alone = compiled(seed)->evaluate(data.x, data.y, 16);
    std::vector<xg::Logs> shared(3);
    ThreadGroup(3).run([&](std::shared_ptr<xg::Collectives> member) {
        auto model = compiled(seed);
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        shared[member->rank()] = model->evaluate(data.x, data.y, 16);
    });
    for (const std::string key : {"precision", "recall", "auc", "top_k_categorical_accuracy"}) {
        CAPTURE(key);
        const double expected = xg::log_value(alone, key);
        CHECK(expected > 0.0);
        for (const xg::Logs& logs : shared) CHECK(std::abs(xg::log_value(logs, key) - expected) < 1e-12);
    }
}

TEST_CASE("threads as processes: Adam's step count and state are broadcast with the weights") {
    const Problem data = make_problem(100, 5);
    xg::FitOptions options = fit_options();
    options.validation_split = 0.0;
    options.epochs = 2;
    const Run reference = train_alone(data, options, true);
    std::vector<Run> runs(2);
    ThreadGroup group(2);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        const std::size_t rank = member->rank();
        auto model = make_model(rank == 0 ? seed : 99, true);
        // Member 1 took steps of its own before: its state must not survive the broadcast.
        if (rank == 1) {
            xg::FitOptions alone = options;
            alone.epochs = 1;
            model->fit(data.x, data.y, alone);
        }
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        xg::History history = model->fit(data.x, data.y, options);
        runs[rank] = finish(*model, std::move(history));
    });
    CHECK(relative(runs[0].history["loss"][0], reference.history["loss"][0]) < 1e-4);
    CHECK(max_abs_diff(runs[0].weights, reference.weights) < 1e-3);
    CHECK(max_abs_diff(runs[1].weights, runs[0].weights) == 0.0);
}

TEST_CASE("threads as processes: average_gradients weights by sample count and fills missing gradients") {
    ThreadGroup group(2);
    std::vector<std::vector<float>> seen(2);
    // One byte per member: std::vector<bool> packs both flags into one word, and the members'
    // threads writing it at once race.
    std::vector<char> b_has_grad(2, 1);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        xg::DataParallel parallel(member);
        const std::size_t rank = member->rank();
        xg::Tensor a = xg::parameter(xt::zeros<float>({2}), "a");
        xg::Tensor b = xg::parameter(xt::zeros<float>({3}), "b");
        // Member 0: a's gradient [1, 2] as the mean over 3 samples; member 1: 1 sample, no gradient for a.
        if (rank == 0) {
            a.set_grad(xg::Array{1.0f, 2.0f});
        }
        const std::size_t global = parallel.average_gradients({a, b}, rank == 0 ? 3 : 1);
        if (global != 4) throw std::logic_error("global count");
        seen[rank] = {a.grad()(0), a.grad()(1)};
        b_has_grad[rank] = b.has_grad();
    });
    for (std::size_t r = 0; r < 2; ++r) {
        CHECK(seen[r] == std::vector<float>{0.75f, 1.5f});
        CHECK_FALSE(b_has_grad[r]);
    }
}

TEST_CASE("threads as processes: average_buffers leaves every member the sample-weighted mean") {
    ThreadGroup group(3);
    std::vector<std::vector<float>> seen(3);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        xg::DataParallel parallel(member);
        const std::size_t rank = member->rank();
        // Member r's statistics are r + 1 (and 10 (r + 1)); it saw 2, 1 and 0 samples: the last
        // had an empty share and its statistics must weigh nothing.
        const float v = static_cast<float>(rank + 1);
        xg::Tensor mean(xg::Array{v, 10 * v});
        xg::Tensor var(xg::Array{v});
        parallel.average_buffers({mean, var}, rank == 0 ? 2 : (rank == 1 ? 1 : 0));
        seen[rank] = {mean.value()(0), mean.value()(1), var.value()(0)};
    });
    const float m = (2 * 1.0f + 1 * 2.0f) / 3;
    for (std::size_t r = 0; r < 3; ++r) {
        CAPTURE(r);
        CHECK(seen[r][0] == doctest::Approx(m));
        CHECK(seen[r][1] == doctest::Approx(10 * m));
        CHECK(seen[r][2] == doctest::Approx(m));
        CHECK(seen[r] == seen[0]);
    }
}

TEST_CASE("threads as processes: fit keeps BatchNormalization's moving statistics identical on every member") {
    const Problem data = make_problem(100, 6);
    xg::FitOptions options = fit_options();
    options.validation_split = 0.0;
    options.epochs = 2;
    std::vector<std::vector<xg::Array>> buffers(3);
    ThreadGroup group(3);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        const std::size_t rank = member->rank();
        xg::manual_seed(rank == 0 ? seed : seed + 7);
        auto network = std::make_shared<xg::Sequential>();
        network->emplace<xg::Dense>(6, 8, xg::DenseOptions{.activation = "relu", .name = "hidden"});
        auto norm = network->emplace<xg::BatchNormalization>(8, xg::BatchNormalizationOptions{.name = "norm"});
        network->emplace<xg::Dense>(8, 3, xg::DenseOptions{.activation = "softmax", .name = "out"});
        // Members other than 0 start from other statistics: fit's broadcast replaces them.
        if (rank != 0) xg::Tensor(norm->moving_mean()).mutable_value() = xt::ones<float>({8});
        xg::Model model(network);
        model.compile("rmsprop", "categorical_crossentropy");
        model.set_data_parallel(std::make_shared<xg::DataParallel>(member));
        model.fit(data.x, data.y, options);
        for (auto& b : network->buffers()) buffers[rank].push_back(b.value());
    });
    REQUIRE(buffers[0].size() == 2);
    CHECK(xt::amax(xt::abs(buffers[0][0]))() > 0.0f);  // the statistics moved
    CHECK(buffers[1] == buffers[0]);
    CHECK(buffers[2] == buffers[0]);
}

TEST_CASE("threads as processes: no samples anywhere is an error on every member") {
    const auto errors = value_errors(2, [](std::shared_ptr<xg::Collectives> member) {
        xg::Tensor a = xg::parameter(xt::zeros<float>({2}), "a");
        xg::DataParallel(member).average_gradients({a}, 0);
    });
    CHECK(errors == std::vector<std::string>(2, "average_gradients: no samples on any process; expected at least one"));
}

TEST_CASE("threads as processes: fit settings that differ between members are an error on every member") {
    const Problem data = make_problem(64, 7);
    const auto errors = value_errors(2, [&](std::shared_ptr<xg::Collectives> member) {
        auto model = make_model(seed);
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        xg::FitOptions options;
        options.epochs = member->rank() == 0 ? 2 : 3;  // process 1 would wait for a third epoch forever
        options.verbose = 0;
        model->fit(data.x, data.y, options);
    });
    CHECK(errors[0] == "fit: samples, validation samples, epochs, initial_epoch, batch_size, shuffle: differ between "
                       "processes (process 0: [64, 0, 2, 0, 32, 1]); expected the same on every process");
    CHECK(errors[1] == "fit: samples, validation samples, epochs, initial_epoch, batch_size, shuffle: [64, 0, 3, 0, 32, 1] "
                       "on process 1, [64, 0, 2, 0, 32, 1] on process 0; expected the same on every process");
}

TEST_CASE("threads as processes: models that differ between members are an error on every member") {
    const auto errors = value_errors(2, [](std::shared_ptr<xg::Collectives> member) {
        // Member 1 has a layer more: more parameters, not only other sizes.
        auto network = std::make_shared<xg::Sequential>();
        network->emplace<xg::Dense>(6, 4, "relu");
        if (member->rank() == 1) network->emplace<xg::Dense>(4, 4, "relu");
        network->emplace<xg::Dense>(4, 3, "softmax");
        xg::DataParallel(member).broadcast_parameters(network->parameters());
    });
    CHECK(errors[0] == "broadcast_parameters: parameter sizes: differ between processes (process 0: [24, 4, 12, 3]); "
                       "expected the same on every process");
    CHECK(errors[1] == "broadcast_parameters: parameter sizes: [24, 4, 16, 4, 12, 3] on process 1, [24, 4, 12, 3] on "
                       "process 0; expected the same on every process");
}

TEST_CASE("threads as processes: a stop requested on one member stops them all") {
    const Problem data = make_problem(64, 7);
    ThreadGroup group(2);
    std::vector<std::size_t> epochs(2);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        const std::size_t rank = member->rank();
        auto model = make_model(seed);
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        xg::FitOptions options;
        options.epochs = 5;
        options.verbose = 0;
        options.callbacks.push_back(std::make_shared<xg::LambdaCallback>([rank](xg::Model& m, std::size_t epoch, const xg::Logs&) {
            if (rank == 1 && epoch == 1) m.stop_training();
        }));
        epochs[rank] = model->fit(data.x, data.y, options).epochs();
    });
    CHECK(epochs == std::vector<std::size_t>{2, 2});
}

TEST_CASE("threads as processes: only process 0 prints progress") {
    const Problem data = make_problem(64, 7);
    ThreadGroup group(2);
    std::vector<std::string> printed(2);
    group.run([&](std::shared_ptr<xg::Collectives> member) {
        const std::size_t rank = member->rank();
        auto model = make_model(seed);
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        std::ostringstream out;
        xg::FitOptions options;
        options.epochs = 2;
        options.verbose = 2;
        options.out = &out;
        model->fit(data.x, data.y, options);
        printed[rank] = out.str();
    });
    CHECK(printed[0].find("Epoch 2/2") != std::string::npos);
    CHECK(printed[0].find("64/64") != std::string::npos);
    CHECK(printed[1].empty());
}

TEST_CASE("threads as processes: checkpoints move between a group and one process, both ways") {
    const Problem data = make_problem(100, 17);
    const xg::FitOptions options = xg::test::quiet_fit(2, 16);
    const Run straight = train_alone(data, options);
    xg::FitOptions first = options, rest = options;
    first.epochs = 1;
    rest.initial_epoch = 1;

    SUBCASE("written by 2 processes, resumed by one") {
        xg::test::ScratchDir dir;
        ThreadGroup(2).run([&](std::shared_ptr<xg::Collectives> member) {
            auto model = make_model(seed);
            model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
            xg::FitOptions o = first;
            o.callbacks.push_back(std::make_shared<xg::CheckpointCallback>(dir / "run"));
            model->fit(data.x, data.y, o);
        });
        auto model = make_model(seed + 7);  // other weights: the checkpoint replaces them
        const auto info = xg::load_checkpoint(dir / "run", *model);
        REQUIRE(info);
        CHECK(info->epochs_done == 1);
        const Run resumed = finish(*model, model->fit(data.x, data.y, rest));
        CHECK(relative(resumed.history["loss"][0], straight.history["loss"][1]) < 1e-4);
        CHECK(max_abs_diff(resumed.weights, straight.weights) < 1e-4);
    }

    SUBCASE("written by one process, resumed by 3 of which process 0 alone reads it") {
        xg::test::ScratchDir dir;
        {
            auto model = make_model(seed);
            xg::FitOptions o = first;
            o.callbacks.push_back(std::make_shared<xg::CheckpointCallback>(dir / "run"));
            model->fit(data.x, data.y, o);
        }
        std::vector<Run> runs(3);
        ThreadGroup(3).run([&](std::shared_ptr<xg::Collectives> member) {
            const std::size_t rank = member->rank();
            auto model = make_model(seed + 100 + rank);
            std::vector<std::size_t> epochs_done = {0};
            if (rank == 0) epochs_done[0] = xg::load_checkpoint(dir / "run", *model).value().epochs_done;
            member->broadcast(std::span(epochs_done));
            model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
            xg::FitOptions o = options;
            o.initial_epoch = epochs_done[0];
            runs[rank] = finish(*model, model->fit(data.x, data.y, o));
        });
        CHECK(relative(runs[0].history["loss"][0], straight.history["loss"][1]) < 1e-4);
        CHECK(max_abs_diff(runs[0].weights, straight.weights) < 1e-4);
        CHECK(max_abs_diff(runs[2].weights, runs[0].weights) == 0.0);
    }
}

TEST_CASE("threads as processes: ReduceLROnPlateau resumed where process 0 alone read the History reduces on every process alike") {
    const Problem data = make_problem(100, 17);
    const xg::FitOptions options = xg::test::quiet_fit(4, 16);
    // The training loss falls: in mode max every epoch after the first ends a plateau.
    const xg::ReduceLROnPlateauOptions every_epoch{.monitor = "loss", .factor = 0.5f, .patience = 1, .mode = "max"};
    xg::test::ScratchDir dir;
    {
        auto model = make_model(seed);
        xg::FitOptions o = options;
        o.epochs = 2;
        o.callbacks = {std::make_shared<xg::CheckpointCallback>(dir / "run"), std::make_shared<xg::ReduceLROnPlateau>(every_epoch)};
        model->fit(data.x, data.y, o);
    }
    std::vector<float> rates(2);
    std::vector<Run> runs(2);
    ThreadGroup(2).run([&](std::shared_ptr<xg::Collectives> member) {
        const std::size_t rank = member->rank();
        auto model = make_model(seed + 100 + rank);
        xg::History history;
        std::vector<std::size_t> epochs_done = {0};
        if (rank == 0) {
            const xg::CheckpointInfo info = xg::load_checkpoint(dir / "run", *model).value();
            epochs_done[0] = info.epochs_done;
            history = info.history;
        }
        member->broadcast(std::span(epochs_done));
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        xg::FitOptions o = options;
        o.initial_epoch = epochs_done[0];
        o.callbacks = {std::make_shared<xg::ReduceLROnPlateau>(every_epoch, history)};
        runs[rank] = finish(*model, model->fit(data.x, data.y, o));
        rates[rank] = model->optimizer().learning_rate();
    });
    CHECK(rates[0] == 0.01f * 0.125f);  // three plateaus, after epochs 1, 2 and 3
    CHECK(rates[1] == rates[0]);
    CHECK(max_abs_diff(runs[1].weights, runs[0].weights) == 0.0);
}

TEST_CASE("threads as processes: a History ReduceLROnPlateau cannot replay on process 0 stops every process") {
    xg::History other;
    other.add({{"accuracy", 0.5}}, 1.0);
    const std::vector<std::string> errors = value_errors(2, [&](std::shared_ptr<xg::Collectives> member) {
        auto model = make_model(seed);
        model->set_data_parallel(std::make_shared<xg::DataParallel>(member));
        xg::ReduceLROnPlateau reduce({}, member->rank() == 0 ? other : xg::History{});
        reduce.on_train_begin(*model);
    });
    CHECK(errors[0].find("val_loss") != std::string::npos);
    CHECK(errors[1] == "ReduceLROnPlateau: another process could not replay its resumed History");
}

TEST_CASE("over the world: the first epoch's loss is one process's, and every process ends the same") {
    xg::dist::Communicator world;
    const Problem data = make_problem(161, 3);
    // Every process computes the one-process reference itself.
    const Run reference = train_alone(data, fit_options());
    const Run run = train_member(data, xg::dist::data_parallel(), fit_options());
    check_matches_reference(run, reference, 32);

    // Weights: max over processes of |w - w on process 0| is exactly 0.
    std::vector<xg::Array> root_weights = run.weights;
    for (auto& w : root_weights) world.broadcast(std::span(w.data(), w.size()));
    CHECK(world.max(max_abs_diff(run.weights, root_weights)) == 0.0);

    // Metrics: every logged value of every epoch is process 0's.
    double worst = 0.0;
    for (const auto& [key, values] : run.history.values) {
        std::vector<double> root = values;
        world.broadcast(std::span(root));
        for (std::size_t e = 0; e < values.size(); ++e) worst = std::max(worst, std::abs(values[e] - root[e]));
    }
    CHECK(world.max(worst) == 0.0);
}

TEST_CASE("over the world: evaluate gives one process's figures on every process") {
    xg::dist::Communicator world;
    const Problem data = make_problem(101, 11);
    auto model = make_model(seed);
    const xg::Logs alone = model->evaluate(data.x, data.y, 16);
    model->set_data_parallel(xg::dist::data_parallel());
    const xg::Logs shared = model->evaluate(data.x, data.y, 16);
    CHECK(relative(xg::log_value(shared, "loss"), xg::log_value(alone, "loss")) < 1e-6);
    CHECK(std::abs(xg::log_value(shared, "accuracy") - xg::log_value(alone, "accuracy")) < 1e-12);
    CHECK(world.max(std::abs(xg::log_value(shared, "loss") - xg::log_value(alone, "loss"))) < 1e-6);
}

TEST_CASE("over the world: a hand-written loop needs shard and average_gradients") {
    const Problem data = make_problem(100, 13);
    xg::FitOptions options;
    options.epochs = 1;
    options.batch_size = 16;
    options.shuffle = false;
    options.verbose = 0;
    const Run reference = train_alone(data, options);

    auto parallel = xg::dist::data_parallel();
    xg::manual_seed(seed);
    auto network = std::make_shared<xg::Sequential>();
    network->emplace<xg::Dense>(6, 16, "relu");
    network->emplace<xg::Dense>(16, 3, "softmax");
    xg::RMSprop optimizer(network->parameters(), xg::RMSpropOptions{.learning_rate = 0.01f});
    const xg::Loss loss_fn = xg::loss_by_name("categorical_crossentropy");
    parallel->broadcast_parameters(network->parameters());

    const xg::ArrayDataset dataset(data.x, data.y);
    const std::vector<std::size_t> order = xg::epoch_order(dataset.size(), false);
    xg::Array xb, yb;
    for (std::size_t start = 0; start < order.size(); start += options.batch_size) {
        const auto rows = parallel->shard(std::span(order).subspan(start, std::min(options.batch_size, order.size() - start)));
        optimizer.zero_grad();
        if (!rows.empty()) {
            dataset.gather(rows, xb, yb);
            loss_fn((*network)(xg::input(xb)), xg::constant(yb)).backward();
        }
        parallel->average_gradients(optimizer.parameters(), rows.size());
        optimizer.step();
    }
    std::vector<xg::Array> weights;
    for (auto& p : network->parameters()) weights.push_back(p.value());
    CHECK(max_abs_diff(weights, reference.weights) < 1e-5);
}

namespace {

// Ids padded behind with 0, tagged per step with id % 3. Rows 4-7 are padding alone (a member of
// a pair has no kept step in the first batch of 8), and so are rows 8-15 (a batch with none at all).
struct Tagged {
    xg::Array ids, tags;
};

Tagged padded_tags() {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> id(1, 9), length(1, 5);
    Tagged t{xt::zeros<float>(xg::Shape{40, 5}), xt::zeros<float>(xg::Shape{40, 5})};
    for (std::size_t i = 0; i < 40; ++i) {
        if (i >= 4 && i < 16) continue;
        const int kept = length(rng);
        for (int s = 0; s < kept; ++s) {
            const int token = id(rng);
            t.ids(i, s) = static_cast<float>(token);
            t.tags(i, s) = static_cast<float>(token % 3);
        }
    }
    return t;
}

Run train_tagger(const Tagged& data, std::shared_ptr<xg::DataParallel> parallel) {
    xg::manual_seed(parallel && !parallel->is_root() ? seed + 1 : seed);
    auto network = std::make_shared<xg::Sequential>();
    network->emplace<xg::Embedding>(10, 4, xg::EmbeddingOptions{.mask_zero = true, .name = "embedding"});
    network->emplace<xg::GRU>(4, 6, xg::GRUOptions{.return_sequences = true, .name = "gru"});
    network->emplace<xg::Dense>(6, 3, xg::DenseOptions{.activation = "softmax", .name = "tags"});
    xg::Model model(network);
    model.compile(std::make_shared<xg::RMSprop>(network->parameters(), xg::RMSpropOptions{.learning_rate = 0.01f}),
                  "sparse_categorical_crossentropy", {"accuracy"});
    if (parallel) model.set_data_parallel(parallel);
    xg::FitOptions options = xg::test::quiet_fit(3, 8);
    options.shuffle = false;
    return finish(model, model.fit(data.ids, data.tags, options));
}

}  // namespace

TEST_CASE("threads as processes: a masked sequence output's steps weigh the gradient, also where a member has none") {
    const Tagged data = padded_tags();
    const Run reference = train_tagger(data, nullptr);
    std::vector<Run> runs(2);
    ThreadGroup(2).run([&](std::shared_ptr<xg::Collectives> member) {
        runs[member->rank()] = train_tagger(data, std::make_shared<xg::DataParallel>(member));
    });
    for (const Run& run : runs) {
        REQUIRE(run.history["loss"].size() == 3);
        for (std::size_t e = 0; e < 3; ++e) {
            CHECK(relative(run.history["loss"][e], reference.history["loss"][e]) < 1e-4);
            CHECK(run.history["accuracy"][e] == doctest::Approx(reference.history["accuracy"][e]));
        }
        CHECK(max_abs_diff(run.weights, reference.weights) < 1e-4);
    }
    CHECK(max_abs_diff(runs[1].weights, runs[0].weights) == 0.0);
}
