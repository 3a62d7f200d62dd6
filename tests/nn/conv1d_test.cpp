// Conv1D: Keras's kernel and defaults, the forward value against a direct loop for every padding
// (causal too), strides and dilations, causality, gradients of the first and second order,
// its config, and errors.
#include "xgrad/nn/conv1d.hpp"

#include <algorithm>
#include <string>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;

// y[n, t, f] = b[f] + sum over k, c of x[n, t s + k d - left, c] w[k, c, f], x 0 outside the
// sequence; `left` is the padding before it (Keras's: half the total for same, rounded down;
// span - 1 for causal).
xg::Array direct_conv1d(const xg::Array& x, const xg::Array& w, const xg::Array& b, std::size_t s, std::size_t d,
                        const std::string& padding) {
    const long n = static_cast<long>(x.shape()[0]), steps = static_cast<long>(x.shape()[1]);
    const long c = static_cast<long>(x.shape()[2]), k = static_cast<long>(w.shape()[0]), f = static_cast<long>(w.shape()[2]);
    const long span = (k - 1) * static_cast<long>(d) + 1, stride = static_cast<long>(s);
    long out = 0, left = 0;
    if (padding == "valid") out = (steps - span) / stride + 1;
    if (padding == "same") {
        out = (steps + stride - 1) / stride;
        left = std::max(0L, (out - 1) * stride + span - steps) / 2;
    }
    if (padding == "causal") {
        out = (steps - 1) / stride + 1;
        left = span - 1;
    }
    xg::Array y = xt::zeros<float>({static_cast<std::size_t>(n), static_cast<std::size_t>(out), static_cast<std::size_t>(f)});
    for (long in = 0; in < n; ++in)
        for (long t = 0; t < out; ++t)
            for (long o = 0; o < f; ++o) {
                double total = b(o);
                for (long q = 0; q < k; ++q) {
                    const long at = t * stride + q * static_cast<long>(d) - left;
                    if (at < 0 || at >= steps) continue;
                    for (long ch = 0; ch < c; ++ch) total += x(in, at, ch) * w(q, ch, o);
                }
                y(in, t, o) = static_cast<float>(total);
            }
    return y;
}

}  // namespace

TEST_CASE("Conv1D has Keras's kernel (kernel_size, C_in, filters), name, defaults and output lengths") {
    xg::manual_seed(4);
    xg::Conv1D layer(4, 8, 3);
    CHECK(layer.name() == "conv1d_1");
    CHECK(layer.kernel().shape() == xg::Shape{3, 4, 8});
    CHECK(layer.bias().shape() == xg::Shape{8});
    CHECK(xt::all(xt::equal(layer.bias().value(), 0.0f)));
    // glorot_uniform over fans 3 * 4 and 3 * 8.
    const float limit = std::sqrt(6.0f / (12.0f + 24.0f));
    CHECK(xt::amax(xt::abs(layer.kernel().value()))() <= limit);
    CHECK(xt::amax(xt::abs(layer.kernel().value()))() > 0.8f * limit);
    CHECK(layer.padding() == "valid");
    CHECK(layer.output_shape({10, 4}) == xg::Shape{8, 8});
    CHECK(xg::Conv1D(4, 8, 3, xg::Conv1DOptions{.padding = "same"}).output_shape({10, 4}) == xg::Shape{10, 8});
    CHECK(xg::Conv1D(4, 8, 3, xg::Conv1DOptions{.strides = 2, .padding = "causal"}).output_shape({10, 4}) == xg::Shape{5, 8});
    CHECK(xg::Conv1D(4, 8, 3, xg::Conv1DOptions{.strides = 2}).output_shape({10, 4}) == xg::Shape{4, 8});
    CHECK(xg::Conv1D(4, 8, 3, xg::Conv1DOptions{.dilation_rate = 2}).output_shape({10, 4}) == xg::Shape{6, 8});
}

TEST_CASE("Conv1D computes activation(convolution + bias) as a direct loop does, for every padding, stride and dilation") {
    const xg::Array x = random_array({2, 9, 3}, 1);
    // Kernels of 2 and 3: 'same' pads an odd total (the odd step after) and an even one.
    for (const std::string padding : {"valid", "same", "causal"}) {
        for (const std::size_t strides : {1, 2}) {
            for (const std::size_t dilation : {1, 2}) {
              for (const std::size_t size : {2, 3}) {
                CAPTURE(padding);
                CAPTURE(strides);
                CAPTURE(dilation);
                CAPTURE(size);
                xg::Conv1D layer(3, 4, size, xg::Conv1DOptions{.activation = "tanh", .strides = strides, .dilation_rate = dilation, .padding = padding});
                xg::Tensor(layer.bias()).mutable_value() = random_array({4}, 3);
                const xg::Array y = layer(xg::input(x)).value();
                const xg::Array expected = xt::tanh(direct_conv1d(x, layer.kernel().value(), layer.bias().value(), strides,
                                                                  dilation, padding));
                xg::test::check_close(y, expected);
                CHECK(layer.output_shape({9, 3}) == xg::Shape{y.shape()[1], 4});
              }
            }
        }
    }
    // A causal kernel reaching further back than the sequence: its earliest taps meet only
    // padding, and the values are still the direct loop's.
    xg::Conv1D far(3, 2, 4, xg::Conv1DOptions{.dilation_rate = 1 << 20, .padding = "causal"});
    xg::test::check_close(far(xg::input(x)).value(),
                          direct_conv1d(x, far.kernel().value(), far.bias().value(), 1, std::size_t{1} << 20, "causal"));
    // Without a bias, the convolution alone.
    xg::Conv1D plain(3, 2, 2, xg::Conv1DOptions{.use_bias = false});
    CHECK_FALSE(plain.bias().defined());
    xg::test::check_close(plain(xg::input(x)).value(),
                          direct_conv1d(x, plain.kernel().value(), xt::zeros<float>({2}), 1, 1, "valid"));
}

TEST_CASE("Conv1D with causal padding: an output never depends on a later step") {
    xg::Conv1D layer(2, 3, 3, xg::Conv1DOptions{.dilation_rate = 2, .padding = "causal"});
    xg::Array x = random_array({1, 12, 2}, 5);
    const xg::Array before = layer(xg::input(x)).value();
    x(0, 7, 1) += 1.0f;
    const xg::Array after = layer(xg::input(x)).value();
    for (std::size_t t = 0; t < 12; ++t) {
        CAPTURE(t);
        const bool changed = xt::any(xt::not_equal(xt::view(before, 0, t), xt::view(after, 0, t)));
        CHECK(changed == (t == 7 || t == 9 || t == 11));
    }
}

TEST_CASE("gradients flow through Conv1D: gradcheck and gradgradcheck on its input, and to its kernel and bias") {
    xg::Conv1D layer(2, 3, 3, xg::Conv1DOptions{.activation = "tanh", .strides = 2, .padding = "same"});
    auto f = [&layer](const std::vector<xg::Tensor>& in) { return layer(in[0]); };
    const xg::Array x = random_array({2, 7, 2}, 6);
    const auto first = xg::gradcheck(f, {x});
    CHECK_MESSAGE(first.passed, first.report());
    const auto second = xg::gradgradcheck(f, {x});
    CHECK_MESSAGE(second.passed, second.report());
    // The kernel's and the bias's gradients of sum(y) for a linear layer: each tap's the sum of
    // the inputs it meets (zeros in the padding), the bias's the number of outputs.
    xg::Conv1D linear(2, 3, 3, xg::Conv1DOptions{.strides = 2, .padding = "same"});
    xg::sum(linear(xg::input(x))).backward();
    // 'same' over 7 steps at stride 2: 4 outputs, (4 - 1) * 2 + 3 - 7 = 2 steps of padding, 1 before.
    const std::size_t out = 4;
    const long left = 1;
    for (std::size_t q = 0; q < 3; ++q) {
        for (std::size_t c = 0; c < 2; ++c) {
            double met = 0.0;
            for (std::size_t n = 0; n < 2; ++n) {
                for (std::size_t t = 0; t < out; ++t) {
                    const long at = static_cast<long>(t * 2 + q) - left;
                    if (at >= 0 && at < 7) met += x(n, static_cast<std::size_t>(at), c);
                }
            }
            for (std::size_t f = 0; f < 3; ++f) CHECK(linear.kernel().grad()(q, c, f) == doctest::Approx(met));
        }
    }
    CHECK(linear.bias().grad() == xg::Array{8.0f, 8.0f, 8.0f});
    xg::Tape::current().clear();
}

TEST_CASE("Conv1D's config rebuilds it; its settings and inputs are checked, naming what is wrong") {
    const xg::Conv1D layer(3, 5, 4, xg::Conv1DOptions{.activation = "relu", .strides = 2, .dilation_rate = 3, .padding = "causal",
                                     .use_bias = false, .name = "c"});
    auto rebuilt = xg::make_layer("Conv1D", *layer.config(), "c");
    auto& conv = dynamic_cast<xg::Conv1D&>(*rebuilt);
    CHECK(conv.input_channels() == 3);
    CHECK(conv.filters() == 5);
    CHECK(conv.kernel_size() == 4);
    CHECK(conv.strides() == 2);
    CHECK(conv.dilation_rate() == 3);
    CHECK(conv.padding() == "causal");
    CHECK(conv.activation() == "relu");
    CHECK_FALSE(conv.bias().defined());

    CHECK_THROWS_WITH_AS(xg::Conv1D(0, 2, 3), "Conv1D: input_channels 0 and filters 2; expected both > 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv1D(1, 2, 3, xg::Conv1DOptions{.strides = 0}),
                         "Conv1D: kernel_size 3, strides 0 and dilation_rate 1; expected every one > 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv1D(1, 2, 3, xg::Conv1DOptions{.dilation_rate = std::size_t{1} << 31}),
                         "Conv1D: kernel_size 3 with dilation_rate 2147483648 spans more than 2147483648 steps; expected a "
                         "smaller dilation_rate",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv1D(1, 2, 3, xg::Conv1DOptions{.padding = "full"}),
                         "Conv1D: padding 'full' is unknown; expected 'valid', 'same' or 'causal'", xg::ValueError);
    xg::Conv1D short_one(2, 2, 3, xg::Conv1DOptions{.dilation_rate = 2, .name = "short"});
    CHECK_THROWS_WITH_AS(short_one(xg::input(xt::zeros<float>({1, 4, 2}))),
                         "short: an input of 4 steps is shorter than the kernel, which spans 5 (kernel_size 3, "
                         "dilation_rate 2), with padding 'valid'; expected at least 5 steps",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(short_one(xg::input(xt::zeros<float>({1, 6, 3}))), "short: input has shape (1, 6, 3); expected (batch, steps, 2)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(short_one(xg::input(xt::zeros<float>({6, 2}))), "short: input has shape (6, 2); expected (batch, steps, 2)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(short_one.output_shape({6}), "short: input shape (6,) without the batch axis; expected (steps, 2)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::Conv1D(2, 2, 3, xg::Conv1DOptions{.padding = "same"}).output_shape({0, 2}), doctest::Contains("an input of 0 steps"),
                         xg::ShapeError);
}
