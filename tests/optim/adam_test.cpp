// Adam as Keras defines it (bias correction folded into the learning rate, epsilon outside
// the square root), against the formula written out in double.
#include "xgrad/optim/adam.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "optimizer_steps.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::check_close;
using xg::test::grads;
using xg::test::step_with;
using xg::test::to_array;
using xg::test::w0;

// Keras's Adam, step t (from 1):
//   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2
//   w -= lr_t m / (sqrt(v) + eps)
struct AdamReference {
    double lr = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    int t = 0;
    std::vector<double> w = w0, m = std::vector<double>(4, 0.0), v = std::vector<double>(4, 0.0);

    void step(const std::vector<double>& g) {
        ++t;
        const double lr_t = lr * std::sqrt(1.0 - std::pow(b2, t)) / (1.0 - std::pow(b1, t));
        for (std::size_t i = 0; i < w.size(); ++i) {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            w[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
        }
    }
};

}  // namespace

TEST_CASE("Adam with Keras's defaults matches the formula for three steps") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::Adam opt({w});
    CHECK(opt.learning_rate() == 0.001f);
    CHECK(opt.kind() == "Adam");
    AdamReference ref;
    for (auto& g : grads) {
        step_with(opt, w, g);
        ref.step(g);
        check_close(w, ref.w);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 2);
    CHECK(state[0].first == "m/w");
    CHECK(state[1].first == "v/w");
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK((*state[0].second)(i) == doctest::Approx(ref.m[i]).epsilon(1e-5).scale(0));
        CHECK((*state[1].second)(i) == doctest::Approx(ref.v[i]).epsilon(1e-4).scale(0));  // 1 - 0.999f is 1.3e-5 off in float
    }
}

TEST_CASE("Adam with other betas and a learning rate changed between steps") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::Adam opt({w}, {.learning_rate = 0.01f, .beta1 = 0.5f, .beta2 = 0.75f, .epsilon = 1e-4f});
    AdamReference ref{.lr = 0.01, .b1 = 0.5, .b2 = 0.75, .eps = 1e-4};
    const double rates[] = {0.01, 0.1, 0.003};
    for (std::size_t t = 0; t < 3; ++t) {
        opt.set_learning_rate(static_cast<float>(rates[t]));
        ref.lr = rates[t];
        step_with(opt, w, grads[t]);
        ref.step(grads[t]);
        check_close(w, ref.w);
    }
}

TEST_CASE("Adam's bias correction counts from the optimizer's iterations (resuming)") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::Adam opt({w}, {.learning_rate = 0.01f});
    opt.set_iterations(9);
    step_with(opt, w, grads[0]);
    CHECK(opt.iterations() == 10);
    // Step t = 10 from zero moments.
    AdamReference ref{.lr = 0.01};
    ref.t = 9;
    ref.step(grads[0]);
    check_close(w, ref.w);
}

TEST_CASE("Adam rejects betas outside [0, 1)") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(xg::Adam({w}, {.beta1 = 1.0f}), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam({w}, {.beta2 = -0.5f}), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam({w}, {.beta1 = nan}), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam({w}, {.epsilon = -1e-7f}), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam({w}, {.epsilon = nan}), xg::ValueError);
    CHECK_THROWS_AS(xg::Adam({}), xg::ValueError);
}
