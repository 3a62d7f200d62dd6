// Conv2DTranspose: Keras's kernel layout, defaults and output sizes, the value against a direct
// scatter loop, the adjoint of Conv2D, errors, and gradients through the layer.
#include "xgrad/nn/conv2d_transpose.hpp"

#include <algorithm>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

xg::Array uniform(const xg::Shape& shape) { return xt::random::rand<float>(shape, -1.0f, 1.0f); }

// The transposed convolution written out: every input pixel adds x * w over its window of the
// output, which starts at (i * SH - top, j * SW - left); Keras's `same` crops max(K - S, 0)
// rows, half of them (rounded down) at the top, `valid` none. (OH, OW) are Keras's sizes.
xg::Array direct_transpose(const xg::Array& x, const xg::Array& w, const xg::Array& b, xg::Size2 s, bool same) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], wd = x.shape()[2], c = x.shape()[3];
    const std::size_t kh = w.shape()[0], kw = w.shape()[1], f = w.shape()[2];
    const std::size_t oh = same ? h * s[0] : h * s[0] + std::max(kh, s[0]) - s[0];
    const std::size_t ow = same ? wd * s[1] : wd * s[1] + std::max(kw, s[1]) - s[1];
    const long top = same ? static_cast<long>(std::max(kh, s[0]) - s[0]) / 2 : 0;
    const long left = same ? static_cast<long>(std::max(kw, s[1]) - s[1]) / 2 : 0;
    xg::Array y = xt::zeros<float>({n, oh, ow, f});
    for (std::size_t in = 0; in < n; ++in)
        for (std::size_t i = 0; i < h; ++i)
            for (std::size_t j = 0; j < wd; ++j)
                for (std::size_t a = 0; a < kh; ++a)
                    for (std::size_t q = 0; q < kw; ++q) {
                        const long r = static_cast<long>(i * s[0] + a) - top, col = static_cast<long>(j * s[1] + q) - left;
                        if (r < 0 || col < 0 || r >= static_cast<long>(oh) || col >= static_cast<long>(ow)) continue;
                        for (std::size_t o = 0; o < f; ++o)
                            for (std::size_t k = 0; k < c; ++k) y(in, r, col, o) += x(in, i, j, k) * w(a, q, o, k);
                    }
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] += b(i % f);
    return y;
}

}  // namespace

TEST_CASE("Conv2DTranspose has Keras's kernel (KH, KW, filters, C_in), name and output sizes") {
    xg::manual_seed(3);
    xg::Conv2DTranspose layer(8, 4, {3, 3});
    CHECK(layer.name() == "conv2d_transpose_1");
    CHECK(layer.kind() == "Conv2DTranspose");
    CHECK(layer.kernel().shape() == xg::Shape{3, 3, 4, 8});
    CHECK(layer.bias().shape() == xg::Shape{4});
    CHECK(layer.parameter_count() == 3 * 3 * 4 * 8 + 4);
    // Keras's deconv_output_length: valid H * s + max(K - s, 0), same H * s.
    CHECK(layer.output_shape({5, 7, 8}) == xg::Shape{7, 9, 4});
    CHECK(xg::Conv2DTranspose(8, 4, {3, 3}, {.strides = {2, 2}}).output_shape({5, 7, 8}) == xg::Shape{11, 15, 4});
    CHECK(xg::Conv2DTranspose(8, 4, {3, 3}, {.strides = {2, 2}, .padding = "same"}).output_shape({5, 7, 8}) ==
          xg::Shape{10, 14, 4});
    CHECK(xg::Conv2DTranspose(8, 4, {1, 2}, {.strides = {3, 2}}).output_shape({5, 7, 8}) == xg::Shape{15, 14, 4});
    // A dilated kernel reaches its span: 3 taps 2 apart span 5, so valid H * s + max(5 - s, 0).
    CHECK(xg::Conv2DTranspose(8, 4, {3, 3}, {.strides = {2, 1}, .dilation_rate = {2, 2}}).output_shape({5, 7, 8}) ==
          xg::Shape{13, 11, 4});
    CHECK(layer.config()->at("filters") == "4");
}

TEST_CASE("Conv2DTranspose computes activation(transposed convolution + bias), as a direct scatter loop does") {
    xt::random::seed(5);
    for (const bool same : {false, true}) {
        for (const xg::Size2 s : {xg::Size2{1, 1}, xg::Size2{2, 2}, xg::Size2{2, 3}, xg::Size2{3, 1}}) {
            CAPTURE(same);
            CAPTURE(s[0]);
            CAPTURE(s[1]);
            xg::Conv2DTranspose layer(3, 2, {3, 2}, {.strides = s, .padding = same ? "same" : "valid"});
            xg::Tensor bias = layer.bias();  // a handle on the layer's own
            bias.mutable_value() = uniform({2});
            const xg::Array x = uniform({2, 4, 5, 3});
            const xg::Array y = layer(xg::input(x)).value();
            const xg::Array expected = direct_transpose(x, layer.kernel().value(), bias.value(), s, same);
            REQUIRE(y.shape() == expected.shape());
            CHECK(xt::allclose(y, expected, 1e-5, 1e-5));
        }
    }
    xg::Tape::current().clear();
}

TEST_CASE("Conv2DTranspose is the adjoint of the convolution by the same kernel and window") {
    // <conv2d(y, k), x> = <y, conv2d_transpose(x, k)>: what makes it the decoder's inverse of shapes.
    xt::random::seed(6);
    for (const char* padding : {"same", "valid"}) {
        for (const xg::Size2 d : {xg::Size2{1, 1}, xg::Size2{2, 3}}) {
            CAPTURE(padding);
            CAPTURE(d[0]);
            CAPTURE(d[1]);
            xg::Conv2DTranspose layer(3, 2, {3, 3},
                                      {.strides = {2, 2}, .dilation_rate = d, .padding = padding, .use_bias = false});
            const xg::Array x = uniform({1, 4, 5, 3});
            const xg::Array up = layer(xg::input(x)).value();
            const xg::Array y = uniform(up.shape());
            const xg::Array down = xg::conv2d(xg::input(y), xg::input(layer.kernel().value()), {2, 2},
                                              xg::parse_padding(padding, "test"), d)
                                       .value();
            REQUIRE(down.shape() == x.shape());
            CHECK(xt::sum(down * x)() == doctest::Approx(xt::sum(y * up)()).epsilon(1e-5));
        }
    }
    xg::Tape::current().clear();
}

TEST_CASE("Conv2DTranspose's errors name the layer and the setting") {
    CHECK_THROWS_WITH_AS(xg::Conv2DTranspose(3, 0, {3, 3}),
                         "Conv2DTranspose: input_channels 3 and filters 0; expected both > 0", xg::ValueError);
    CHECK_THROWS_AS(xg::Conv2DTranspose(3, 2, {3, 3}, {.padding = "full"}), xg::ValueError);
    xg::Conv2DTranspose layer(3, 2, {3, 3});
    CHECK_THROWS_WITH_AS(layer(xg::input(xt::zeros<float>({1, 4, 4, 2}))),
                         "conv2d_transpose_1: input shape (4, 4, 2) without the batch axis; expected (height, width, 3)",
                         xg::ShapeError);
    // An output extent past what a size can hold is an error, not a wrapped-around size.
    const std::size_t huge = std::size_t{1} << 40;
    xg::Conv2DTranspose wide(3, 2, {3, 3}, {.strides = {huge, 1}, .name = "wide"});
    CHECK_THROWS_WITH_AS(wide.output_shape({huge, 4, 3}),
                         "wide: an input of extent 1099511627776 at stride 1099511627776 gives an output larger than any "
                         "array; expected a smaller input or stride",
                         xg::ShapeError);
}

TEST_CASE("gradients flow through Conv2DTranspose to its input, kernel and bias") {
    xt::random::seed(7);
    xg::Conv2DTranspose layer(2, 3, {3, 2}, {.activation = "tanh", .strides = {2, 1}, .padding = "same"});
    const auto through_input = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); },
                                             {uniform({2, 3, 4, 2})});
    CHECK_MESSAGE(through_input.passed, through_input.report());
    const xg::Tensor y = layer(xg::input(uniform({2, 3, 4, 2})));
    xg::sum(y * y).backward();
    for (const auto& [name, p] : layer.named_parameters()) {
        CAPTURE(name);
        CHECK(p.grad().shape() == p.shape());
        CHECK(xt::amax(xt::abs(p.grad()))() > 0.0f);
    }
}
