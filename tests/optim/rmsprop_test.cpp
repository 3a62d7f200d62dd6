// RMSprop as Keras 2.3 defines it (epsilon outside the square root), plus the centered and
// momentum variants, against the formulas written out in double.
#include "xgrad/optim/rmsprop.hpp"

#include <algorithm>
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

// The reference: the update rules of rmsprop.hpp, in double, for `steps` steps.
struct RmspropReference {
    double lr, rho, eps, momentum;
    bool centered;
    std::vector<double> w = w0, ms = std::vector<double>(4, 0.0), mg = std::vector<double>(4, 0.0),
                        mom = std::vector<double>(4, 0.0);

    void step(const std::vector<double>& g) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            ms[i] = rho * ms[i] + (1.0 - rho) * g[i] * g[i];
            double denominator = ms[i];
            if (centered) {
                mg[i] = rho * mg[i] + (1.0 - rho) * g[i];
                denominator = ms[i] - mg[i] * mg[i];
            }
            const double update = lr * g[i] / (std::sqrt(denominator) + eps);
            if (momentum > 0.0) {
                mom[i] = momentum * mom[i] + update;
                w[i] -= mom[i];
            } else {
                w[i] -= update;
            }
        }
    }
};

}  // namespace

TEST_CASE("RMSprop's defaults are Keras 2.3's") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w});
    CHECK(opt.learning_rate() == 0.001f);
    CHECK(opt.options().rho == 0.9f);
    CHECK(opt.options().epsilon == 1e-7f);
    CHECK(opt.options().momentum == 0.0f);
    CHECK_FALSE(opt.options().centered);
    CHECK(opt.kind() == "RMSprop");
}

TEST_CASE("RMSprop: ms = rho ms + (1 - rho) g^2; w -= lr g / (sqrt(ms) + eps)") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w});
    RmspropReference ref{0.001, 0.9, 1e-7, 0.0, false};
    for (auto& g : grads) {
        step_with(opt, w, g);
        ref.step(g);
        check_close(w, ref.w);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 1);
    CHECK(state[0].first == "rms/w");
    for (std::size_t i = 0; i < 4; ++i) CHECK((*state[0].second)(i) == doctest::Approx(ref.ms[i]).epsilon(1e-5).scale(0));
    // The first step moves every element by about lr / (sqrt(1 - rho) + ...) = 0.00316: the tiny
    // gradient's element too, by lr * g / (sqrt(0.1) |g| + eps) = 0.00240 rather than ~0.
    CHECK(std::abs(w.value()(3) - w0[3]) > 1e-3);
}

TEST_CASE("RMSprop with other settings and a learning rate changed between steps") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w}, {.learning_rate = 0.01f, .rho = 0.5f, .epsilon = 1e-3f});
    RmspropReference ref{0.01, 0.5, 1e-3, 0.0, false};
    const double rates[] = {0.01, 0.05, 0.002};
    for (std::size_t t = 0; t < 3; ++t) {
        opt.set_learning_rate(static_cast<float>(rates[t]));
        ref.lr = rates[t];
        step_with(opt, w, grads[t]);
        ref.step(grads[t]);
        check_close(w, ref.w);
    }
}

TEST_CASE("centered RMSprop divides by sqrt(ms - mg^2) + eps") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w}, {.learning_rate = 0.01f, .centered = true});
    RmspropReference ref{0.01, 0.9, 1e-7, 0.0, true};
    for (auto& g : grads) {
        step_with(opt, w, g);
        ref.step(g);
        check_close(w, ref.w);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 2);
    CHECK(state[0].first == "rms/w");
    CHECK(state[1].first == "mean_grad/w");
    for (std::size_t i = 0; i < 4; ++i) CHECK((*state[1].second)(i) == doctest::Approx(ref.mg[i]).epsilon(1e-5).scale(0));
}

TEST_CASE("RMSprop with momentum accumulates the step: mom = m mom + lr g / (sqrt(ms) + eps); w -= mom") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w}, {.learning_rate = 0.01f, .momentum = 0.8f});
    RmspropReference ref{0.01, 0.9, 1e-7, 0.8, false};
    for (auto& g : grads) {
        step_with(opt, w, g);
        ref.step(g);
        check_close(w, ref.w);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 2);
    CHECK(state[1].first == "momentum/w");
    for (std::size_t i = 0; i < 4; ++i) CHECK((*state[1].second)(i) == doctest::Approx(ref.mom[i]).epsilon(1e-5).scale(0));
}

TEST_CASE("centered RMSprop with momentum") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    xg::RMSprop opt({w}, {.learning_rate = 0.01f, .rho = 0.8f, .momentum = 0.5f, .centered = true});
    RmspropReference ref{0.01, 0.8, 1e-7, 0.5, true};
    for (auto& g : grads) {
        step_with(opt, w, g);
        ref.step(g);
        check_close(w, ref.w);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 3);
    CHECK(state[0].first == "rms/w");
    CHECK(state[1].first == "mean_grad/w");
    CHECK(state[2].first == "momentum/w");
}

TEST_CASE("RMSprop rejects rho, epsilon and momentum outside their ranges") {
    xg::Tensor w = xg::parameter(to_array(w0), "w");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(xg::RMSprop({w}, {.rho = 1.0f}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.rho = -0.1f}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.rho = nan}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.epsilon = -1e-7f}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.momentum = 1.0f}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.momentum = nan}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({w}, {.learning_rate = -0.001f}), xg::ValueError);
}
