// Determinism across runs and threads: the same seed and BLAS thread count give the same losses run
// after run, also where OpenBLAS splits a product over threads, and two models trained at once on two
// threads (each with its own tape and random engine) end exactly as when trained one after the other.
// The single-threaded same-seed case is in model_test.cpp.
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/blas.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/train/model.hpp"

namespace {

struct Problem {
    xg::Array x, y;
};

// `n` samples of `features` noise values with one of `classes` one-hot labels, fixed by `seed`.
Problem noise_problem(std::size_t n, std::size_t features, std::size_t classes, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> value(0.0f, 1.0f);
    Problem p{xg::uninitialized({n, features}), xt::zeros<float>({n, classes})};
    for (float& v : p.x) v = value(engine);
    for (std::size_t i = 0; i < n; ++i) p.y(i, (i * 7) % classes) = 1.0f;
    return p;
}

struct Result {
    std::vector<double> losses;
    std::vector<xg::Array> weights;
};

// Seeds this thread's engine, builds a fresh model and trains it (shuffled, so the seed fixes the order).
Result train(const Problem& data, std::uint64_t seed, std::size_t hidden, std::size_t epochs, const std::string& optimizer) {
    xg::manual_seed(seed);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(data.x.shape()[1], hidden, "relu");
    net->emplace<xg::Dense>(hidden, data.y.shape()[1], "softmax");
    xg::Model model(net);
    model.compile(optimizer, "categorical_crossentropy", {"accuracy"});
    xg::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 32;
    o.verbose = 0;
    const xg::History h = model.fit(data.x, data.y, o);
    Result r{h["loss"], {}};
    for (auto& t : net->parameters()) r.weights.push_back(t.value());
    return r;
}

}  // namespace

TEST_CASE("with two BLAS threads splitting each product, the same seed gives identical losses run after run") {
    xg::set_blas_threads(2);
    REQUIRE(xg::blas_threads() == 2);
    // (64, 256) . (256, 256): large enough that OpenBLAS runs the product on both threads.
    const Problem data = noise_problem(192, 256, 4, 21);
    const Result a = train(data, 99, 256, 2, "rmsprop");
    const Result b = train(data, 99, 256, 2, "rmsprop");
    const Result c = train(data, 99, 256, 2, "rmsprop");
    REQUIRE(a.losses.size() == 2);
    CHECK(a.losses == b.losses);
    CHECK(a.losses == c.losses);
    CHECK(a.weights == b.weights);
    CHECK(a.weights == c.weights);
    xg::set_blas_threads(1);
}

TEST_CASE("two models trained at once on two threads end exactly as when trained one after the other") {
    xg::set_blas_threads(1);
    const Problem first = noise_problem(96, 12, 3, 1);
    const Problem second = noise_problem(80, 10, 4, 2);

    const Result first_alone = train(first, 7, 16, 5, "rmsprop");
    const Result second_alone = train(second, 8, 24, 5, "adam");

    Result first_together, second_together;
    // Each thread seeds its own engine: xg::random_engine() is per thread, as is the tape.
    std::thread a([&] { first_together = train(first, 7, 16, 5, "rmsprop"); });
    std::thread b([&] { second_together = train(second, 8, 24, 5, "adam"); });
    a.join();
    b.join();

    CHECK(first_together.losses == first_alone.losses);
    CHECK(first_together.weights == first_alone.weights);
    CHECK(second_together.losses == second_alone.losses);
    CHECK(second_together.weights == second_alone.weights);
    CHECK(first_alone.losses != second_alone.losses);
}

TEST_CASE("draws on another thread do not disturb this thread's random sequence") {
    xg::manual_seed(123);
    const auto first = xg::random_engine()();
    std::thread t([] {
        xg::manual_seed(123);
        for (int i = 0; i < 1000; ++i) xg::random_engine()();
    });
    t.join();
    const auto second = xg::random_engine()();
    xg::RandomEngine fresh(123);
    CHECK(first == fresh());
    CHECK(second == fresh());
}
