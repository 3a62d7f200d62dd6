// SGD: plain, momentum and Nesterov updates against the Keras formulas written out in double.
#include "xgrad/optim/sgd.hpp"

#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "optimizer_steps.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

const std::vector<double> sgd_w0 = {0.5, -1.0, 2.0};
// A different gradient at each of the three steps.
const std::vector<std::vector<double>> sgd_grads = {{0.1, -0.2, 0.3}, {0.4, 0.1, -0.5}, {-0.3, 0.2, 0.05}};

using xg::test::check_close;
using xg::test::step_with;
using xg::test::to_array;

}  // namespace

TEST_CASE("plain SGD: w -= lr * g") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    xg::SGD opt({w}, {.learning_rate = 0.1f});
    CHECK(opt.state().empty());
    std::vector<double> expected = sgd_w0;
    for (auto& g : sgd_grads) {
        step_with(opt, w, g);
        for (std::size_t i = 0; i < 3; ++i) expected[i] -= 0.1 * g[i];
        check_close(w, expected);
    }
}

TEST_CASE("SGD's default learning rate is Keras's 0.01") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    xg::SGD opt({w});
    CHECK(opt.learning_rate() == 0.01f);
    step_with(opt, w, sgd_grads[0]);
    check_close(w, {sgd_w0[0] - 0.01 * 0.1, sgd_w0[1] + 0.01 * 0.2, sgd_w0[2] - 0.01 * 0.3});
}

TEST_CASE("SGD with momentum: v = m v - lr g; w += v") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    xg::SGD opt({w}, {.learning_rate = 0.1f, .momentum = 0.9f});
    std::vector<double> expected = sgd_w0, v(3, 0.0);
    for (auto& g : sgd_grads) {
        step_with(opt, w, g);
        for (std::size_t i = 0; i < 3; ++i) {
            v[i] = 0.9 * v[i] - 0.1 * g[i];
            expected[i] += v[i];
        }
        check_close(w, expected);
    }
    auto state = opt.state();
    REQUIRE(state.size() == 1);
    CHECK(state[0].first == "velocity/w");
    for (std::size_t i = 0; i < 3; ++i) CHECK((*state[0].second)(i) == doctest::Approx(v[i]).epsilon(1e-6));
}

TEST_CASE("SGD with Nesterov momentum: v = m v - lr g; w += m v - lr g") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    xg::SGD opt({w}, {.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
    std::vector<double> expected = sgd_w0, v(3, 0.0);
    for (auto& g : sgd_grads) {
        step_with(opt, w, g);
        for (std::size_t i = 0; i < 3; ++i) {
            v[i] = 0.9 * v[i] - 0.1 * g[i];
            expected[i] += 0.9 * v[i] - 0.1 * g[i];
        }
        check_close(w, expected);
    }
}

TEST_CASE("SGD picks up a new learning rate at the next step") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    xg::SGD opt({w}, {.learning_rate = 0.1f, .momentum = 0.5f});
    std::vector<double> expected = sgd_w0, v(3, 0.0);
    const double rates[] = {0.1, 0.02, 0.3};
    for (std::size_t t = 0; t < 3; ++t) {
        opt.set_learning_rate(static_cast<float>(rates[t]));
        step_with(opt, w, sgd_grads[t]);
        for (std::size_t i = 0; i < 3; ++i) {
            v[i] = 0.5 * v[i] - rates[t] * sgd_grads[t][i];
            expected[i] += v[i];
        }
        check_close(w, expected);
    }
}

TEST_CASE("SGD rejects a momentum outside [0, 1)") {
    xg::Tensor w = xg::parameter(to_array(sgd_w0), "w");
    CHECK_THROWS_AS(xg::SGD({w}, {.momentum = -0.1f}), xg::ValueError);
    CHECK_THROWS_AS(xg::SGD({w}, {.momentum = 1.0f}), xg::ValueError);
    CHECK_THROWS_AS(xg::SGD({w}, {.momentum = std::numeric_limits<float>::quiet_NaN()}), xg::ValueError);
    CHECK_THROWS_AS(xg::SGD({w}, {.learning_rate = 0.0f}), xg::ValueError);
}
