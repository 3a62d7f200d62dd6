// Tests for lib/xgrad/ops/batch_norm.cpp.
#include <cmath>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

// Mean and biased variance per channel of x viewed as (rows, C), and the normalized x.
struct Moments {
    xg::Array mean, var;
};

Moments moments(const xg::Array& x) {
    const std::size_t c = x.shape().back(), rows = x.size() / c;
    Moments m{xt::zeros<float>({c}), xt::zeros<float>({c})};
    for (std::size_t i = 0; i < c; ++i) {
        double s = 0, s2 = 0;
        for (std::size_t r = 0; r < rows; ++r) s += x.data()[r * c + i];
        const double mean = s / double(rows);
        for (std::size_t r = 0; r < rows; ++r) s2 += (x.data()[r * c + i] - mean) * (x.data()[r * c + i] - mean);
        m.mean(i) = float(mean);
        m.var(i) = float(s2 / double(rows));
    }
    return m;
}

xg::Array normalize(const xg::Array& x, const xg::Array& mean, const xg::Array& var, const xg::Array& gamma,
                    const xg::Array& beta, float eps) {
    return xg::Array(gamma * (x - mean) / xt::sqrt(var + eps) + beta);
}

}  // namespace

TEST_CASE("batch_norm in training normalizes by the batch statistics and updates the moving ones") {
    xt::random::seed(1);
    const xg::Array x = uniform({4, 3, 5, 2}, -2.0f, 3.0f);
    const xg::Array gamma = uniform({2}), beta = uniform({2});
    const xg::Tensor mm = xg::input(xg::Array{0.5f, -0.5f}), mv = xg::input(xg::Array{2.0f, 1.0f});
    const xg::Tensor y = xg::batch_norm(xg::input(x), xg::input(gamma), xg::input(beta), mm, mv, true, 0.9f, 1e-3f);
    const Moments m = moments(x);
    CHECK(xt::allclose(y.value(), normalize(x, m.mean, m.var, gamma, beta, 1e-3f), 1e-4, 1e-5));
    // moving = moving * momentum + batch * (1 - momentum), with the biased batch variance.
    CHECK(xt::allclose(mm.value(), xg::Array(xg::Array{0.5f, -0.5f} * 0.9f + m.mean * 0.1f)));
    CHECK(xt::allclose(mv.value(), xg::Array(xg::Array{2.0f, 1.0f} * 0.9f + m.var * 0.1f)));
    // Each channel of the output has mean beta and standard deviation about |gamma|.
    const Moments out = moments(y.value());
    CHECK(xt::allclose(out.mean, beta, 1e-4, 1e-5));
    CHECK(xt::allclose(xt::sqrt(out.var), xt::abs(gamma), 1e-2, 1e-3));
}

TEST_CASE("batch_norm at inference uses the moving statistics and leaves them alone") {
    xt::random::seed(2);
    const xg::Array x = uniform({3, 4});
    const xg::Array gamma = uniform({4}), beta = uniform({4});
    const xg::Array mean = uniform({4}), var = uniform({4}, 0.5f, 2.0f);
    const xg::Tensor mm = xg::input(mean), mv = xg::input(var);
    const xg::Tensor y = xg::batch_norm(xg::input(x), xg::input(gamma), xg::input(beta), mm, mv, false);
    CHECK(xt::allclose(y.value(), normalize(x, mean, var, gamma, beta, 1e-3f), 1e-5, 1e-6));
    CHECK(mm.value() == mean);
    CHECK(mv.value() == var);
}

TEST_CASE("batch_norm passes gradcheck in training and at inference") {
    xt::random::seed(3);
    for (const xg::Shape& shape : {xg::Shape{5, 3}, xg::Shape{2, 3, 5, 3}, xg::Shape{3, 1, 1, 3}}) {
        CAPTURE(xg::format_shape(shape));
        for (bool training : {true, false}) {
            CAPTURE(training);
            const xg::Tensor mm = xg::input(uniform({3})), mv = xg::input(uniform({3}, 0.5f, 1.5f));
            // Large epsilon keeps the finite differences of 1 / sqrt(var) accurate in float32.
            const auto result = xg::gradcheck(
                [&](const std::vector<xg::Tensor>& in) {
                    return xg::batch_norm(in[0], in[1], in[2], mm, mv, training, 0.99f, 0.1f);
                },
                {uniform(shape, -2.0f, 2.0f), uniform({3}), uniform({3})});
            CHECK_MESSAGE(result.passed, result.report());
        }
    }
}

TEST_CASE("batch_norm passes gradgradcheck in training and at inference, its two rules agreeing") {
    xt::random::seed(4);
    for (const xg::Shape& shape : {xg::Shape{5, 3}, xg::Shape{2, 3, 5, 3}, xg::Shape{3, 1, 1, 3}}) {
        CAPTURE(xg::format_shape(shape));
        for (bool training : {true, false}) {
            CAPTURE(training);
            const xg::Tensor mm = xg::input(uniform({3})), mv = xg::input(uniform({3}, 0.5f, 1.5f));
            const auto f = [&](const std::vector<xg::Tensor>& in) {
                return xg::batch_norm(in[0], in[1], in[2], mm, mv, training, 0.99f, 0.1f);
            };
            const std::vector<xg::Array> inputs{uniform(shape, -2.0f, 2.0f), uniform({3}), uniform({3})};
            xg::test::check_second_order(f, inputs);
        }
    }
}

TEST_CASE("batch_norm rejects bad arguments naming the op, the shapes and the argument") {
    const xg::Tensor x = xg::input(xt::zeros<float>({4, 5, 5, 3}));
    const xg::Tensor c3 = xg::input(xt::ones<float>({3})), c2 = xg::input(xt::ones<float>({2}));
    CHECK_THROWS_WITH_AS(xg::batch_norm(x, c2, c3, c3, c3, true),
                         "batch_norm: gamma has shape (2,); expected (3,), one per channel of x (4, 5, 5, 3)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::batch_norm(x, c3, c3, c3, c2, false),
                         doctest::Contains("batch_norm: moving_variance has shape (2,)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::batch_norm(xg::input(xt::zeros<float>({3})), c3, c3, c3, c3, true),
                         doctest::Contains("batch_norm: x has shape (3,) (rank 1); expected rank >= 2"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::batch_norm(x, c3, c3, c3, c3, true, 1.5f),
                         "batch_norm: momentum is 1.5; expected 0 <= momentum <= 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::batch_norm(x, c3, c3, c3, c3, true, 0.9f, 0.0f), "batch_norm: epsilon is 0; expected > 0",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::batch_norm(xg::input(xt::zeros<float>({0, 3})), c3, c3, c3, c3, true),
                         doctest::Contains("batch_norm: x (0, 3) holds no rows"), xg::ShapeError);
}
