// BatchNormalization: Keras's defaults (gamma 1, beta 0, moving mean 0, moving variance 1,
// momentum 0.99, epsilon 1e-3), batch statistics and moving updates in training mode, moving
// statistics in inference mode, non-trainable buffers, errors, and gradients.
#include "xgrad/nn/batch_normalization.hpp"

#include <cmath>
#include <random>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;

// Per-feature mean and biased variance of x viewed as (rows, features).
std::pair<std::vector<double>, std::vector<double>> channel_moments(const xg::Array& x) {
    const std::size_t c = x.shape().back(), rows = x.size() / c;
    std::vector<double> mean(c, 0.0), var(c, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t k = 0; k < c; ++k) mean[k] += x.data()[r * c + k] / static_cast<double>(rows);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t k = 0; k < c; ++k) {
            const double d = x.data()[r * c + k] - mean[k];
            var[k] += d * d / static_cast<double>(rows);
        }
    return {mean, var};
}

}  // namespace

TEST_CASE("BatchNormalization has Keras's defaults: trainable gamma and beta, moving statistics as buffers") {
    xg::BatchNormalization bn(4);
    CHECK(bn.name() == "batch_normalization_1");
    CHECK(bn.momentum() == 0.99f);
    CHECK(bn.epsilon() == 1e-3f);
    CHECK(xt::all(xt::equal(bn.gamma().value(), 1.0f)));
    CHECK(xt::all(xt::equal(bn.beta().value(), 0.0f)));
    CHECK(xt::all(xt::equal(bn.moving_mean().value(), 0.0f)));
    CHECK(xt::all(xt::equal(bn.moving_variance().value(), 1.0f)));
    auto params = bn.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "gamma");
    CHECK(params[1].first == "beta");
    auto buffers = bn.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "moving_mean");
    CHECK(buffers[1].first == "moving_variance");
    CHECK_FALSE(bn.moving_mean().requires_grad());
    CHECK(bn.parameter_count() == 8);
    CHECK(bn.buffer_count() == 8);
    CHECK(bn.output_shape({5, 5, 4}) == xg::Shape{5, 5, 4});
}

TEST_CASE("training mode normalizes with the batch's statistics and moves the moving ones toward them") {
    xg::BatchNormalization bn(3);
    const xg::Array x = random_array({6, 2, 2, 3}, 1, 2.0f, 5.0f);
    const auto [mean, var] = channel_moments(x);
    const xg::Tensor y = bn(xg::input(x));
    xg::Tape::current().clear();
    const auto [y_mean, y_var] = channel_moments(y.value());
    for (std::size_t k = 0; k < 3; ++k) {
        CAPTURE(k);
        CHECK(y_mean[k] == doctest::Approx(0.0).epsilon(1e-4).scale(1.0));
        CHECK(y_var[k] == doctest::Approx(var[k] / (var[k] + 1e-3)).epsilon(1e-3));
        CHECK(bn.moving_mean().value()(k) == doctest::Approx(0.01 * mean[k]).epsilon(1e-4));
        CHECK(bn.moving_variance().value()(k) == doctest::Approx(0.99 + 0.01 * var[k]).epsilon(1e-4));
    }
}

TEST_CASE("inference mode uses the moving statistics and leaves them alone") {
    xg::BatchNormalization bn(2, {.momentum = 0.5f, .epsilon = 0.01f});
    bn.moving_mean().node()->mutable_value() = xg::Array{1.0f, -2.0f};
    bn.moving_variance().node()->mutable_value() = xg::Array{4.0f, 0.25f};
    bn.gamma().node()->mutable_value() = xg::Array{2.0f, 1.0f};
    bn.beta().node()->mutable_value() = xg::Array{0.5f, 0.0f};
    bn.eval();
    const xg::Array x = {{3.0f, -1.0f}, {1.0f, -2.0f}};
    const xg::Array y = bn(xg::input(x)).value();
    xg::Tape::current().clear();
    CHECK(y(0, 0) == doctest::Approx(2.0 * (3.0 - 1.0) / std::sqrt(4.01) + 0.5));
    CHECK(y(1, 0) == doctest::Approx(0.5));
    CHECK(y(0, 1) == doctest::Approx((-1.0 + 2.0) / std::sqrt(0.26)));
    CHECK(bn.moving_mean().value() == xg::Array{1.0f, -2.0f});
    CHECK(bn.moving_variance().value() == xg::Array{4.0f, 0.25f});
    // Training mode with momentum 0.5 moves halfway to the batch's statistics.
    bn.train();
    bn(xg::input(x));
    xg::Tape::current().clear();
    CHECK(bn.moving_mean().value()(0) == doctest::Approx(0.5 * 1.0 + 0.5 * 2.0));
    CHECK(bn.moving_variance().value()(1) == doctest::Approx(0.5 * 0.25 + 0.5 * 0.25));
}

TEST_CASE("a frozen BatchNormalization runs as in inference even in training mode, as Keras's does") {
    xg::BatchNormalization bn(2, {.momentum = 0.5f, .epsilon = 0.01f});
    bn.moving_mean().node()->mutable_value() = xg::Array{1.0f, -2.0f};
    bn.moving_variance().node()->mutable_value() = xg::Array{4.0f, 0.25f};
    const xg::Array x = {{3.0f, -1.0f}, {1.0f, -2.0f}};
    bn.eval();
    const xg::Array inference = bn(xg::input(x)).value();
    bn.train();
    bn.set_trainable(false);
    const xg::Array frozen = bn(xg::input(x)).value();
    xg::Tape::current().clear();
    CHECK(frozen == inference);
    CHECK(bn.moving_mean().value() == xg::Array{1.0f, -2.0f});
    CHECK(bn.moving_variance().value() == xg::Array{4.0f, 0.25f});
    bn.set_trainable(true);
    const xg::Array trained = bn(xg::input(x)).value();
    xg::Tape::current().clear();
    CHECK_FALSE(trained == inference);
    CHECK(bn.moving_mean().value()(0) == doctest::Approx(0.5 * 1.0 + 0.5 * 2.0));
}

TEST_CASE("without center or scale, beta and gamma are fixed and not parameters") {
    xg::BatchNormalization bn(3, {.center = false, .scale = false});
    CHECK(bn.parameters().empty());
    CHECK_FALSE(bn.gamma().defined());
    CHECK_FALSE(bn.beta().defined());
    CHECK(bn.buffers().size() == 2);
    const xg::Array x = random_array({8, 3}, 2, -1.0f, 1.0f);
    const auto [y_mean, y_var] = channel_moments(bn(xg::input(x)).value());
    xg::Tape::current().clear();
    CHECK(y_mean[1] == doctest::Approx(0.0).scale(1.0));
}

TEST_CASE("BatchNormalization's errors name the layer and the shapes") {
    CHECK_THROWS_AS(xg::BatchNormalization(0), xg::ValueError);
    CHECK_THROWS_AS(xg::BatchNormalization(3, {.momentum = 1.5f}), xg::ValueError);
    CHECK_THROWS_AS(xg::BatchNormalization(3, {.epsilon = 0.0f}), xg::ValueError);
    xg::BatchNormalization bn(3, {.name = "bn"});
    CHECK_THROWS_WITH_AS(bn(xg::input(xt::zeros<float>({2, 4}))),
                         "bn: input shape (4,) without the batch axis; expected (..., 3)", xg::ShapeError);
    CHECK_THROWS_AS(bn(xg::input(xt::zeros<float>({3}))), xg::ShapeError);
    CHECK_THROWS_AS(bn.output_shape({2, 2}), xg::ShapeError);
}

TEST_CASE("gradients flow through BatchNormalization in both modes") {
    xg::BatchNormalization bn(2);
    bn.gamma().node()->mutable_value() = xg::Array{1.5f, 0.7f};
    const xg::Array x = random_array({5, 3, 2}, 3, -1.0f, 1.0f);
    const auto training = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return bn(in[0]); }, {x});
    CHECK_MESSAGE(training.passed, training.report());
    bn.eval();
    const auto inference = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return bn(in[0]); }, {x});
    CHECK_MESSAGE(inference.passed, inference.report());
    xg::sum(bn(xg::input(x)) * xg::constant(x)).backward();
    CHECK(bn.gamma().has_grad());
    CHECK(bn.beta().has_grad());
    CHECK_FALSE(bn.moving_mean().has_grad());
}

TEST_CASE("summary counts the moving statistics as non-trainable params, as Keras does") {
    xg::Sequential model;
    model.emplace<xg::BatchNormalization>(64);
    const std::string s = model.summary({10, 64});
    CHECK(s.find("batch_normalization_1 (BatchNormalization)") != std::string::npos);
    CHECK(s.find("256\n") != std::string::npos);
    CHECK(s.find("Total params: 256\nTrainable params: 128\nNon-trainable params: 128\n") != std::string::npos);
}
