// Dropout: training drops about `rate` of the inputs and scales the rest by 1 / (1 - rate),
// inference passes them through; the mask follows the seed; gradients follow the mask.
#include "xgrad/nn/dropout.hpp"

#include <cmath>

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("Dropout in training mode zeroes about rate of the inputs and scales the rest by 1 / (1 - rate)") {
    xg::manual_seed(5);
    xg::Dropout layer(0.25f);
    CHECK(layer.name() == "dropout_1");
    CHECK(layer.training());
    CHECK(layer.parameters().empty());
    const xg::Array x = xt::ones<float>({200, 50});
    const xg::Tensor y = layer(xg::input(x));
    std::size_t dropped = 0;
    for (float v : y.value()) {
        if (v == 0.0f) {
            ++dropped;
        } else {
            CHECK(v == doctest::Approx(1.0f / 0.75f));
        }
    }
    // 10,000 draws: the dropped fraction's standard error is about 0.0043.
    CHECK(static_cast<double>(dropped) / 10000.0 == doctest::Approx(0.25).epsilon(0.08));
    CHECK(layer.output_shape({7, 3}) == xg::Shape{7, 3});
    xg::Tape::current().clear();
}

TEST_CASE("Dropout in inference mode is the identity, and training mode's mask follows the seed") {
    xg::Dropout layer(0.5f);
    const xg::Array x = xt::arange<float>(1.0f, 65.0f);
    const xg::Array x2 = xt::reshape_view(x, {8, 8});
    layer.eval();
    CHECK(layer(xg::input(x2)).value() == x2);
    layer.train();
    xg::manual_seed(9);
    const xg::Array first = layer(xg::input(x2)).value();
    const xg::Array again = layer(xg::input(x2)).value();
    xg::manual_seed(9);
    CHECK(layer(xg::input(x2)).value() == first);
    CHECK(first != again);  // a new mask every call
    CHECK(first != x2);
    xg::Tape::current().clear();
}

TEST_CASE("Dropout's gradient is its mask scaled by 1 / (1 - rate)") {
    xg::manual_seed(2);
    xg::Dropout layer(0.4f);
    xg::Tensor x = xg::parameter(xt::ones<float>({10, 10}), "x");
    const xg::Tensor y = layer(x);
    const xg::Array kept = y.value();
    xg::sum(y).backward();
    REQUIRE(x.has_grad());
    for (std::size_t i = 0; i < kept.size(); ++i) CHECK(x.grad().data()[i] == doctest::Approx(kept.data()[i]));
}

TEST_CASE("Dropout's rate must be in [0, 1)") {
    CHECK_THROWS_AS(xg::Dropout(1.0f), xg::ValueError);
    CHECK_THROWS_AS(xg::Dropout(-0.1f), xg::ValueError);
    CHECK_THROWS_AS(xg::Dropout(std::nanf("")), xg::ValueError);
    xg::Dropout none(0.0f);
    const xg::Array x = xt::ones<float>({3, 3});
    CHECK(none(xg::input(x)).value() == x);
    xg::Tape::current().clear();
}
