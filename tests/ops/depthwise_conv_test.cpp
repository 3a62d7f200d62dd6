// Tests for lib/xgrad/ops/depthwise_conv.cpp: depthwise_conv2d (with and without bias),
// depthwise_conv2d_backward_input, depthwise_conv2d_backward_kernel.
#include <algorithm>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "convolution_cases.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"

namespace {

using xg::Padding;
using xg::Size2;
using xg::test::ConvolutionCase;
using xg::test::pad_before;
using xg::test::uniform;

// The depthwise convolution as a direct loop: output channel c * M + m sees input channel c only.
xg::Array reference_depthwise(const xg::Array& x, const xg::Array& k, Size2 strides, Padding padding,
                              Size2 dilation = {1, 1}) {
    const long n = x.shape(0), h = x.shape(1), w = x.shape(2), c = x.shape(3);
    const long kh = k.shape(0), kw = k.shape(1), mult = k.shape(3);
    long oh = 0, ow = 0;
    const long dh = long(dilation[0]), dw = long(dilation[1]);
    const long top = pad_before(h, (kh - 1) * dh + 1, strides[0], padding, oh);
    const long left = pad_before(w, (kw - 1) * dw + 1, strides[1], padding, ow);
    xg::Array y = xt::zeros<float>({std::size_t(n), std::size_t(oh), std::size_t(ow), std::size_t(c * mult)});
    for (long b = 0; b < n; ++b)
        for (long oy = 0; oy < oh; ++oy)
            for (long ox = 0; ox < ow; ++ox)
                for (long i = 0; i < c; ++i)
                    for (long m = 0; m < mult; ++m) {
                        double acc = 0;
                        for (long ky = 0; ky < kh; ++ky)
                            for (long kx = 0; kx < kw; ++kx) {
                                const long iy = oy * long(strides[0]) - top + ky * dh;
                                const long ix = ox * long(strides[1]) - left + kx * dw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                acc += double(x(b, iy, ix, i)) * double(k(ky, kx, i, m));
                            }
                        y(b, oy, ox, i * mult + m) = float(acc);
                    }
    return y;
}


// Odd sizes, strides 1 and 2 (and mixed), both paddings, even and odd kernels, 1x1, multipliers 1 to 3.
std::vector<ConvolutionCase> depthwise_cases() {
    std::vector<ConvolutionCase> out;
    for (Padding p : {Padding::valid, Padding::same}) {
        out.push_back({{2, 5, 7, 3}, {3, 3, 3, 1}, {1, 1}, p});
        out.push_back({{1, 7, 5, 2}, {3, 3, 2, 2}, {2, 2}, p});
        out.push_back({{2, 6, 5, 1}, {2, 3, 1, 3}, {2, 1}, p});
        out.push_back({{1, 5, 5, 3}, {1, 1, 3, 2}, {1, 1}, p});
        out.push_back({{1, 4, 6, 2}, {2, 2, 2, 1}, {2, 2}, p});
        // Dilated: taps apart in both directions, with strides and a different rate per axis, and
        // apart in rows only.
        out.push_back({{1, 7, 8, 2}, {3, 3, 2, 2}, {1, 1}, p, {2, 2}});
        out.push_back({{1, 9, 7, 1}, {2, 3, 1, 2}, {2, 1}, p, {3, 2}});
        out.push_back({{1, 8, 6, 2}, {2, 2, 2, 1}, {1, 2}, p, {3, 1}});
    }
    out.push_back({{1, 3, 3, 2}, {5, 4, 2, 2}, {1, 1}, Padding::same});  // kernel larger than the image
    out.push_back({{1, 4, 3, 1}, {2, 2, 1, 2}, {1, 1}, Padding::same, {3, 4}});  // dilated past the image
    return out;
}

xg::Shape output_shape(const ConvolutionCase& c) {
    return xg::depthwise_conv2d(xg::input(xt::zeros<float>(c.x)), xg::input(xt::zeros<float>(c.kernel)), c.strides,
                                c.padding, c.dilation)
        .shape();
}

}  // namespace

TEST_CASE("depthwise_conv2d matches a direct loop for every padding, stride and depth multiplier") {
    xt::random::seed(3);
    for (const ConvolutionCase& c : depthwise_cases()) {
        CAPTURE(c.describe());
        const xg::Array x = uniform(c.x), k = uniform(c.kernel), b = uniform({c.x[3] * c.kernel[3]});
        const xg::Array expected = reference_depthwise(x, k, c.strides, c.padding, c.dilation);
        const xg::Tensor y = xg::depthwise_conv2d(xg::input(x), xg::input(k), c.strides, c.padding, c.dilation);
        REQUIRE(y.shape() == expected.shape());
        CHECK(xt::allclose(y.value(), expected, 1e-5, 1e-5));
        const xg::Tensor biased = xg::depthwise_conv2d_with_bias(xg::input(x), xg::input(k), xg::input(b), c.strides,
                                                                 c.padding, c.dilation);
        CHECK(xt::allclose(biased.value(), expected + b, 1e-5, 1e-5));
    }
}

TEST_CASE("depthwise_conv2d is conv2d with a kernel that joins each output channel to its own input channel") {
    xt::random::seed(4);
    const xg::Array x = uniform({2, 6, 5, 3}), k = uniform({3, 2, 3, 2});
    xg::Array full = xt::zeros<float>({3, 2, 3, 6});
    for (std::size_t a = 0; a < 3; ++a)
        for (std::size_t b = 0; b < 2; ++b)
            for (std::size_t c = 0; c < 3; ++c)
                for (std::size_t m = 0; m < 2; ++m) full(a, b, c, c * 2 + m) = k(a, b, c, m);
    for (Padding p : {Padding::valid, Padding::same}) {
        for (Size2 d : {Size2{1, 1}, Size2{2, 3}}) {
            const xg::Array y = xg::depthwise_conv2d(xg::input(x), xg::input(k), {2, 1}, p, d).value();
            CHECK(xt::allclose(y, xg::conv2d(xg::input(x), xg::input(full), {2, 1}, p, d).value(), 1e-5, 1e-5));
        }
    }
}

TEST_CASE("depthwise_conv2d passes gradcheck for x, kernel and bias") {
    xt::random::seed(7);
    for (const ConvolutionCase& c : depthwise_cases()) {
        CAPTURE(c.describe());
        const auto plain = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d(in[0], in[1], c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(c.kernel)});
        CHECK_MESSAGE(plain.passed, plain.report());
        const auto biased = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_with_bias(in[0], in[1], in[2], c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(c.kernel), uniform({c.x[3] * c.kernel[3]})});
        CHECK_MESSAGE(biased.passed, biased.report());
    }
}

TEST_CASE("with many channels, split into blocks and a partial last block, values and gradients stay right") {
    xt::random::seed(8);
    for (const ConvolutionCase& c : {ConvolutionCase{{2, 5, 4, 21}, {3, 3, 21, 1}, {1, 1}, Padding::same},
                                     ConvolutionCase{{1, 6, 5, 20}, {2, 3, 20, 3}, {2, 1}, Padding::valid}}) {
        CAPTURE(c.describe());
        const xg::Array x = uniform(c.x), k = uniform(c.kernel);
        CHECK(xt::allclose(xg::depthwise_conv2d(xg::input(x), xg::input(k), c.strides, c.padding, c.dilation).value(),
                           reference_depthwise(x, k, c.strides, c.padding, c.dilation), 1e-5, 1e-5));
        const auto result = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d(in[0], in[1], c.strides, c.padding, c.dilation);
            },
            {x, k});
        CHECK_MESSAGE(result.passed, result.report());
    }
}

TEST_CASE("the gradient ops compute depthwise_conv2d's gradients") {
    xt::random::seed(9);
    for (const ConvolutionCase& c : depthwise_cases()) {
        CAPTURE(c.describe());
        const xg::Tensor x = xg::parameter(uniform(c.x), "x");
        const xg::Tensor k = xg::parameter(uniform(c.kernel), "k");
        const xg::Tensor y = xg::depthwise_conv2d(x, k, c.strides, c.padding, c.dilation);
        const xg::Array dy = uniform(y.shape());
        y.backward(dy);
        const xg::Tensor dx = xg::depthwise_conv2d_backward_input(xg::input(dy), k.detach(), c.x, c.strides, c.padding, c.dilation);
        const xg::Tensor dk =
            xg::depthwise_conv2d_backward_kernel(x.detach(), xg::input(dy), c.kernel, c.strides, c.padding, c.dilation);
        CHECK(xt::allclose(dx.value(), x.grad(), 1e-5, 1e-5));
        CHECK(xt::allclose(dk.value(), k.grad(), 1e-5, 1e-5));
    }
}

TEST_CASE("depthwise_conv2d_backward_input and _backward_kernel pass gradcheck") {
    xt::random::seed(11);
    for (const ConvolutionCase& c : depthwise_cases()) {
        CAPTURE(c.describe());
        const xg::Shape y_shape = output_shape(c);
        const auto input_grad = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_backward_input(in[0], in[1], c.x, c.strides, c.padding, c.dilation);
            },
            {uniform(y_shape), uniform(c.kernel)});
        CHECK_MESSAGE(input_grad.passed, input_grad.report());
        const auto kernel_grad = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_backward_kernel(in[0], in[1], c.kernel, c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(y_shape)});
        CHECK_MESSAGE(kernel_grad.passed, kernel_grad.report());
    }
}

TEST_CASE("depthwise_conv2d, its bias form and both gradient ops pass gradgradcheck") {
    xt::random::seed(17);
    for (const ConvolutionCase& c : depthwise_cases()) {
        CAPTURE(c.describe());
        const xg::Shape y_shape = output_shape(c);
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d(in[0], in[1], c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(c.kernel)});
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_with_bias(in[0], in[1], in[2], c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(c.kernel), uniform({c.x[3] * c.kernel[3]})});
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_backward_input(in[0], in[1], c.x, c.strides, c.padding, c.dilation);
            },
            {uniform(y_shape), uniform(c.kernel)});
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::depthwise_conv2d_backward_kernel(in[0], in[1], c.kernel, c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(y_shape)});
    }
}

TEST_CASE("the Hessian of a separable convolution under a nonlinearity matches finite differences") {
    // tanh(pointwise(depthwise(x))): depthwise kernel, pointwise kernel and x all interact.
    xt::random::seed(19);
    for (Padding p : {Padding::valid, Padding::same}) {
        for (Size2 s : {Size2{1, 1}, Size2{2, 2}}) {
            CAPTURE(xg::window_attributes(s, p).to_string());
            xg::test::check_second_order(
                [&](const std::vector<xg::Tensor>& in) {
                    return xg::tanh(xg::conv2d_with_bias(xg::depthwise_conv2d(in[0], in[1], s, p), in[2], in[3]));
                },
                {uniform({2, 5, 4, 2}), uniform({3, 2, 2, 2}), uniform({1, 1, 4, 3}), uniform({3})});
        }
    }
}

TEST_CASE("depthwise_conv2d over an empty batch gives an empty batch and zero kernel gradients") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({0, 5, 5, 2}), "x");
    const xg::Tensor k = xg::parameter(uniform({3, 3, 2, 2}), "k");
    const xg::Tensor b = xg::parameter(uniform({4}), "b");
    const xg::Tensor y = xg::depthwise_conv2d_with_bias(x, k, b, {1, 1}, Padding::same);
    CHECK(y.shape() == xg::Shape{0, 5, 5, 4});
    xg::sum(y).backward();
    CHECK(x.grad().shape() == xg::Shape{0, 5, 5, 2});
    CHECK(k.grad() == xt::zeros<float>({3, 3, 2, 2}));
    CHECK(b.grad() == xt::zeros<float>({4}));
}

TEST_CASE("depthwise_conv2d rejects bad arguments naming the op, the shapes and the argument") {
    const xg::Tensor x = xg::input(xt::zeros<float>({4, 7, 7, 3}));
    const xg::Tensor k = xg::input(xt::zeros<float>({3, 3, 2, 1}));
    const xg::Tensor k3 = xg::input(xt::zeros<float>({3, 3, 3, 2}));
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d(x, k),
                         "depthwise_conv2d: kernel (3, 3, 2, 1) has 2 channels but x (4, 7, 7, 3) has 3; expected equal",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d(xg::input(xt::zeros<float>({7, 7, 3})), k3),
                         doctest::Contains("depthwise_conv2d: x has shape (7, 7, 3) (rank 3); expected rank 4"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d(x, xg::input(xt::zeros<float>({3, 3, 3}))),
                         doctest::Contains("depthwise_conv2d: kernel has shape (3, 3, 3) (rank 3); expected rank 4, "
                                           "(rows, columns, channels, depth multiplier)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d(x, xg::input(xt::zeros<float>({9, 3, 3, 1}))),
                         doctest::Contains("depthwise_conv2d: kernel (9, 3) is larger than the input's rows and columns"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d(x, k3, xg::Size2{0, 1}),
                         doctest::Contains("depthwise_conv2d: strides are (0, 1); expected both >= 1"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::depthwise_conv2d_with_bias(x, k3, xg::input(xt::zeros<float>({3}))),
                         doctest::Contains("depthwise_conv2d_with_bias: bias has shape (3,); expected (6,)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(
        xg::depthwise_conv2d_backward_input(xg::input(xt::zeros<float>({4, 5, 5, 3})), k3, {4, 7, 7, 3}),
        doctest::Contains("depthwise_conv2d_backward_input: dy has shape (4, 5, 5, 3); expected (4, 5, 5, 6)"),
        xg::ShapeError);
    CHECK_THROWS_WITH_AS(
        xg::depthwise_conv2d_backward_kernel(x, xg::input(xt::zeros<float>({4, 7, 7, 6})), {3, 3, 3, 2}),
        doctest::Contains("depthwise_conv2d_backward_kernel: dy has shape (4, 7, 7, 6); expected (4, 5, 5, 6)"),
        xg::ShapeError);
}
