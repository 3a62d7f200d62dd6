// Conv2D: Keras's defaults and initializers, the forward value against a direct loop, strides
// and padding in the output shape, options, errors, and gradients through the layer.
#include "xgrad/nn/conv2d.hpp"

#include <cmath>
#include <random>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;

// The valid cross-correlation with strides (sh, sw) written out:
// y[n, i, j, o] = b[o] + sum x[n, i sh + a, j sw + c, k] w[a, c, k, o].
xg::Array direct_conv(const xg::Array& x, const xg::Array& w, const xg::Array& b, std::size_t sh, std::size_t sw) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], wd = x.shape()[2], c = x.shape()[3];
    const std::size_t kh = w.shape()[0], kw = w.shape()[1], o = w.shape()[3];
    const std::size_t oh = (h - kh) / sh + 1, ow = (wd - kw) / sw + 1;
    xg::Array y = xt::zeros<float>({n, oh, ow, o});
    for (std::size_t in = 0; in < n; ++in)
        for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j)
                for (std::size_t f = 0; f < o; ++f) {
                    double total = b(f);
                    for (std::size_t a = 0; a < kh; ++a)
                        for (std::size_t q = 0; q < kw; ++q)
                            for (std::size_t k = 0; k < c; ++k) total += x(in, i * sh + a, j * sw + q, k) * w(a, q, k, f);
                    y(in, i, j, f) = static_cast<float>(total);
                }
    return y;
}

}  // namespace

TEST_CASE("Conv2D has Keras's defaults: glorot_uniform kernel (KH, KW, C_in, filters), zero bias, valid, stride 1") {
    xg::manual_seed(3);
    xg::Conv2D layer(3, 16, {3, 3});
    CHECK(layer.name() == "conv2d_1");
    CHECK(layer.kind() == "Conv2D");
    CHECK(layer.kernel().shape() == xg::Shape{3, 3, 3, 16});
    CHECK(layer.bias().shape() == xg::Shape{16});
    CHECK(xt::all(xt::equal(layer.bias().value(), 0.0f)));
    // glorot_uniform with fan_in 3*3*3 = 27 and fan_out 3*3*16 = 144.
    const float limit = std::sqrt(6.0f / (27.0f + 144.0f));
    CHECK(xt::amax(xt::abs(layer.kernel().value()))() <= limit);
    CHECK(xt::amax(xt::abs(layer.kernel().value()))() > 0.9f * limit);
    CHECK(layer.strides() == xg::Size2{1, 1});
    CHECK(layer.padding() == xg::Padding::valid);
    CHECK(layer.activation() == "linear");
    CHECK(layer.parameter_count() == 3 * 3 * 3 * 16 + 16);
    auto named = layer.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "kernel");
    CHECK(named[1].first == "bias");
}

TEST_CASE("Conv2D computes activation(cross-correlation + bias), as a direct loop does") {
    xg::Conv2D layer(2, 3, {3, 2}, xg::Conv2DOptions{.activation = "relu", .strides = {2, 1},
                                                      .bias_initializer = [](const xg::Shape& s) {
                                                          return random_array(s, 5);
                                                      }});
    const xg::Array x = random_array({2, 7, 5, 2}, 1);
    const xg::Tensor y = layer(xg::input(x));
    xg::Tape::current().clear();
    const xg::Array expected = xt::maximum(direct_conv(x, layer.kernel().value(), layer.bias().value(), 2, 1), 0.0f);
    REQUIRE(y.shape() == expected.shape());
    CHECK(y.shape() == xg::Shape{2, 3, 4, 3});
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(y.value().data()[i] == doctest::Approx(expected.data()[i]).epsilon(1e-5));
}

TEST_CASE("Conv2D's output_shape follows strides and padding, as Keras's does") {
    CHECK(xg::Conv2D(1, 32, {3, 3}).output_shape({28, 28, 1}) == xg::Shape{26, 26, 32});
    CHECK(xg::Conv2D(1, 8, {3, 3}, xg::Conv2DOptions{.padding = "same"}).output_shape({28, 28, 1}) == xg::Shape{28, 28, 8});
    CHECK(xg::Conv2D(1, 8, {3, 3}, xg::Conv2DOptions{.strides = {2, 2}}).output_shape({28, 28, 1}) == xg::Shape{13, 13, 8});
    CHECK(xg::Conv2D(1, 8, {3, 3}, xg::Conv2DOptions{.strides = {2, 2}, .padding = "same"}).output_shape({7, 7, 1}) ==
          xg::Shape{4, 4, 8});
    // The same as the forward pass gives.
    xg::Conv2D layer(4, 5, {2, 3}, xg::Conv2DOptions{.strides = {3, 2}, .padding = "same"});
    const xg::Tensor y = layer(xg::input(xt::zeros<float>({2, 8, 9, 4})));
    CHECK(xg::Shape(y.shape().begin() + 1, y.shape().end()) == layer.output_shape({8, 9, 4}));
    xg::Tape::current().clear();
}

TEST_CASE("Conv2D without a bias has the kernel alone") {
    xg::Conv2D layer(2, 3, {1, 1}, xg::Conv2DOptions{.use_bias = false});
    CHECK(layer.parameters().size() == 1);
    CHECK_FALSE(layer.bias().defined());
    const xg::Array x = random_array({1, 2, 2, 2}, 2);
    const xg::Tensor y = layer(xg::input(x));
    const xg::Array expected = direct_conv(x, layer.kernel().value(), xt::zeros<float>({3}), 1, 1);
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(y.value().data()[i] == doctest::Approx(expected.data()[i]).epsilon(1e-5));
    xg::Tape::current().clear();
}

TEST_CASE("Conv2D's errors name the layer and the shapes") {
    CHECK_THROWS_AS(xg::Conv2D(0, 3, {3, 3}), xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2D(1, 0, {3, 3}), xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2D(1, 3, {0, 3}), xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2D(1, 3, {3, 3}, xg::Conv2DOptions{.strides = {1, 0}}), xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2D(1, 3, {3, 3}, xg::Conv2DOptions{.padding = "full"}), xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2D(1, 3, {3, 3}, "swish_gated"), xg::ValueError);
    xg::Conv2D layer(3, 4, {3, 3}, xg::Conv2DOptions{.name = "c"});
    CHECK_THROWS_WITH_AS(layer(xg::input(xt::zeros<float>({2, 5, 5, 2}))),
                         "c: input shape (5, 5, 2) without the batch axis; expected (height, width, 3)", xg::ShapeError);
    CHECK_THROWS_AS(layer(xg::input(xt::zeros<float>({2, 75}))), xg::ShapeError);
    CHECK_THROWS_AS(layer.output_shape({2, 2, 3}), xg::ShapeError);  // the kernel does not fit
    CHECK(xg::Tape::current().scope().empty());
}

TEST_CASE("gradients flow through Conv2D to its input (gradcheck), kernel and bias (as the ops give them)") {
    xg::manual_seed(7);
    xg::Conv2D layer(2, 3, {2, 2}, xg::Conv2DOptions{.activation = "tanh", .padding = "same"});
    const xg::Array x = random_array({2, 4, 3, 2}, 4);
    const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {x});
    CHECK_MESSAGE(result.passed, result.report());

    const xg::Array r = random_array({2, 4, 3, 3}, 8);
    for (auto& p : layer.parameters()) p.zero_grad();
    xg::sum(layer(xg::input(x)) * xg::constant(r)).backward();
    xg::Tensor kernel = xg::parameter(layer.kernel().value(), "k"), bias = xg::parameter(layer.bias().value(), "b");
    xg::sum(xg::tanh(xg::conv2d_with_bias(xg::input(x), kernel, bias, {1, 1}, xg::Padding::same)) * xg::constant(r))
        .backward();
    REQUIRE(layer.kernel().has_grad());
    REQUIRE(layer.bias().has_grad());
    CHECK(layer.kernel().grad() == kernel.grad());
    CHECK(layer.bias().grad() == bias.grad());
}
