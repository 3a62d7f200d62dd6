// Tests for lib/xgrad/ops/conv.cpp: conv2d (with and without bias), conv2d_backward_input,
// conv2d_backward_kernel.
#include <algorithm>
#include <cmath>
#include <tuple>
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

// The convolution as a direct loop over output pixels, window positions and channels.
xg::Array reference_conv(const xg::Array& x, const xg::Array& k, Size2 strides, Padding padding,
                         Size2 dilation = {1, 1}) {
    const long n = x.shape(0), h = x.shape(1), w = x.shape(2), c = x.shape(3);
    const long kh = k.shape(0), kw = k.shape(1), co = k.shape(3);
    long oh = 0, ow = 0;
    const long dh = long(dilation[0]), dw = long(dilation[1]);
    const long top = pad_before(h, (kh - 1) * dh + 1, strides[0], padding, oh);
    const long left = pad_before(w, (kw - 1) * dw + 1, strides[1], padding, ow);
    xg::Array y = xt::zeros<float>({std::size_t(n), std::size_t(oh), std::size_t(ow), std::size_t(co)});
    for (long b = 0; b < n; ++b)
        for (long oy = 0; oy < oh; ++oy)
            for (long ox = 0; ox < ow; ++ox)
                for (long o = 0; o < co; ++o) {
                    double acc = 0;
                    for (long ky = 0; ky < kh; ++ky)
                        for (long kx = 0; kx < kw; ++kx) {
                            const long iy = oy * long(strides[0]) - top + ky * dh;
                            const long ix = ox * long(strides[1]) - left + kx * dw;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (long i = 0; i < c; ++i) acc += double(x(b, iy, ix, i)) * double(k(ky, kx, i, o));
                        }
                    y(b, oy, ox, o) = float(acc);
                }
    return y;
}


// Odd sizes, strides 1 and 2 (and mixed), both paddings, even and odd kernels, 1x1.
std::vector<ConvolutionCase> conv_cases() {
    std::vector<ConvolutionCase> out;
    for (Padding p : {Padding::valid, Padding::same}) {
        out.push_back({{2, 5, 7, 3}, {3, 3, 3, 2}, {1, 1}, p});
        out.push_back({{1, 7, 5, 2}, {3, 3, 2, 3}, {2, 2}, p});
        out.push_back({{2, 6, 5, 1}, {2, 3, 1, 2}, {2, 1}, p});
        out.push_back({{1, 5, 5, 3}, {1, 1, 3, 2}, {1, 1}, p});
        out.push_back({{1, 4, 6, 2}, {2, 2, 2, 1}, {2, 2}, p});
        // Dilated: taps apart in both directions, with strides and a different rate per axis, and
        // apart in rows only (whole window rows still copied at once).
        out.push_back({{1, 7, 8, 2}, {3, 3, 2, 2}, {1, 1}, p, {2, 2}});
        out.push_back({{1, 9, 7, 1}, {2, 3, 1, 2}, {2, 1}, p, {3, 2}});
        out.push_back({{1, 8, 6, 2}, {2, 2, 2, 1}, {1, 2}, p, {3, 1}});
    }
    out.push_back({{1, 3, 3, 2}, {5, 4, 2, 1}, {1, 1}, Padding::same});  // kernel larger than the image
    out.push_back({{1, 4, 3, 1}, {2, 2, 1, 2}, {1, 1}, Padding::same, {3, 4}});  // dilated past the image
    return out;
}

}  // namespace

TEST_CASE("conv2d matches a direct loop for every padding and stride") {
    xt::random::seed(3);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const xg::Array x = uniform(c.x), k = uniform(c.kernel);
        const xg::Tensor y = xg::conv2d(xg::input(x), xg::input(k), c.strides, c.padding, c.dilation);
        const xg::Array expected = reference_conv(x, k, c.strides, c.padding, c.dilation);
        REQUIRE(y.shape() == expected.shape());
        CHECK(xt::allclose(y.value(), expected, 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d same padding puts the extra row and column at the bottom and right, as Keras") {
    // 3x3 image 1..9, 2x2 kernel of ones: total padding 1 per axis, all of it after the image.
    xg::Array x = xt::arange<float>(1.0f, 10.0f);
    x.reshape({1, 3, 3, 1});
    const xg::Tensor y = xg::conv2d(xg::input(x), xg::input(xt::ones<float>({2, 2, 1, 1})), {1, 1}, Padding::same);
    xg::Array expected = xg::Array{{12, 16, 9}, {24, 28, 15}, {15, 17, 9}};
    expected.reshape({1, 3, 3, 1});
    CHECK(y.value() == expected);
    // Output sizes: valid floor((H - K) / s) + 1, same ceil(H / s).
    const xg::Tensor img = xg::input(xt::zeros<float>({2, 7, 8, 1}));
    const xg::Tensor k3 = xg::input(xt::zeros<float>({3, 3, 1, 4}));
    CHECK(xg::conv2d(img, k3, {2, 2}, Padding::valid).shape() == xg::Shape{2, 3, 3, 4});
    CHECK(xg::conv2d(img, k3, {2, 2}, Padding::same).shape() == xg::Shape{2, 4, 4, 4});
    CHECK(xg::conv2d(img, k3, {3, 1}, Padding::same).shape() == xg::Shape{2, 3, 8, 4});
}

TEST_CASE("conv2d with bias adds the bias to every output pixel") {
    xt::random::seed(5);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const xg::Array x = uniform(c.x), k = uniform(c.kernel), b = uniform({c.kernel[3]});
        const xg::Tensor y = xg::conv2d_with_bias(xg::input(x), xg::input(k), xg::input(b), c.strides, c.padding, c.dilation);
        const xg::Array expected = reference_conv(x, k, c.strides, c.padding, c.dilation) + b;
        CHECK(xt::allclose(y.value(), expected, 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d passes gradcheck for x, kernel and bias") {
    xt::random::seed(7);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const auto plain = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) { return xg::conv2d(in[0], in[1], c.strides, c.padding, c.dilation); },
            {uniform(c.x), uniform(c.kernel)});
        CHECK_MESSAGE(plain.passed, plain.report());
        const auto biased = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::conv2d_with_bias(in[0], in[1], in[2], c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(c.kernel), uniform({c.kernel[3]})});
        CHECK_MESSAGE(biased.passed, biased.report());
    }
}

TEST_CASE("the gradient ops compute conv2d's gradients") {
    xt::random::seed(9);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const xg::Tensor x = xg::parameter(uniform(c.x), "x");
        const xg::Tensor k = xg::parameter(uniform(c.kernel), "k");
        const xg::Tensor y = xg::conv2d(x, k, c.strides, c.padding, c.dilation);
        const xg::Array dy = uniform(y.shape());
        y.backward(dy);
        const xg::Tensor dx = xg::conv2d_backward_input(xg::input(dy), k.detach(), c.x, c.strides, c.padding, c.dilation);
        const xg::Tensor dk = xg::conv2d_backward_kernel(x.detach(), xg::input(dy), c.kernel, c.strides, c.padding, c.dilation);
        CHECK(xt::allclose(dx.value(), x.grad(), 1e-5, 1e-5));
        CHECK(xt::allclose(dk.value(), k.grad(), 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d_backward_input and conv2d_backward_kernel pass gradcheck (second derivatives of conv2d)") {
    xt::random::seed(11);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const xg::Shape y_shape = xg::conv2d(xg::input(xt::zeros<float>(c.x)), xg::input(xt::zeros<float>(c.kernel)),
                                             c.strides, c.padding, c.dilation).shape();
        const auto input_grad = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::conv2d_backward_input(in[0], in[1], c.x, c.strides, c.padding, c.dilation);
            },
            {uniform(y_shape), uniform(c.kernel)});
        CHECK_MESSAGE(input_grad.passed, input_grad.report());
        const auto kernel_grad = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::conv2d_backward_kernel(in[0], in[1], c.kernel, c.strides, c.padding, c.dilation);
            },
            {uniform(c.x), uniform(y_shape)});
        CHECK_MESSAGE(kernel_grad.passed, kernel_grad.report());
    }
}

TEST_CASE("conv2d, conv2d_with_bias and both gradient ops pass gradgradcheck") {
    xt::random::seed(17);
    for (const ConvolutionCase& c : conv_cases()) {
        CAPTURE(c.describe());
        const xg::Shape y_shape = xg::conv2d(xg::input(xt::zeros<float>(c.x)), xg::input(xt::zeros<float>(c.kernel)),
                                             c.strides, c.padding, c.dilation).shape();
        const auto conv = [&](const std::vector<xg::Tensor>& in) {
            return xg::conv2d(in[0], in[1], c.strides, c.padding, c.dilation);
        };
        const auto biased = [&](const std::vector<xg::Tensor>& in) {
            return xg::conv2d_with_bias(in[0], in[1], in[2], c.strides, c.padding, c.dilation);
        };
        const auto input_grad = [&](const std::vector<xg::Tensor>& in) {
            return xg::conv2d_backward_input(in[0], in[1], c.x, c.strides, c.padding, c.dilation);
        };
        const auto kernel_grad = [&](const std::vector<xg::Tensor>& in) {
            return xg::conv2d_backward_kernel(in[0], in[1], c.kernel, c.strides, c.padding, c.dilation);
        };
        const std::vector<xg::Array> xk{uniform(c.x), uniform(c.kernel)};
        const std::vector<xg::Array> xkb{uniform(c.x), uniform(c.kernel), uniform({c.kernel[3]})};
        const std::vector<xg::Array> dyk{uniform(y_shape), uniform(c.kernel)};
        const std::vector<xg::Array> xdy{uniform(c.x), uniform(y_shape)};
        xg::test::check_second_order(conv, xk);
        xg::test::check_second_order(biased, xkb);
        xg::test::check_second_order(input_grad, dyk);
        xg::test::check_second_order(kernel_grad, xdy);
    }
}

TEST_CASE("the Hessian of a conv2d layer under a nonlinearity matches finite differences of its gradient") {
    // tanh(conv2d_with_bias(x, k, b)): x, k and b all interact, so every Hessian block is nonzero.
    xt::random::seed(19);
    for (Padding p : {Padding::valid, Padding::same}) {
        for (Size2 s : {Size2{1, 1}, Size2{2, 2}}) {
            CAPTURE(xg::window_attributes(s, p).to_string());
            xg::test::check_second_order(
                [&](const std::vector<xg::Tensor>& in) { return xg::tanh(xg::conv2d_with_bias(in[0], in[1], in[2], s, p)); },
                {uniform({2, 5, 4, 2}), uniform({3, 2, 2, 3}), uniform({3})});
        }
    }
}

TEST_CASE("conv2d over an empty batch gives an empty batch and zero kernel gradients") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({0, 5, 5, 2}), "x");
    const xg::Tensor k = xg::parameter(uniform({3, 3, 2, 4}), "k");
    const xg::Tensor y = xg::conv2d(x, k, {1, 1}, Padding::same);
    CHECK(y.shape() == xg::Shape{0, 5, 5, 4});
    xg::sum(y).backward();
    CHECK(x.grad().shape() == xg::Shape{0, 5, 5, 2});
    CHECK(k.grad() == xt::zeros<float>({3, 3, 2, 4}));
}

TEST_CASE("conv2d rejects bad arguments naming the op, the shapes and the argument") {
    const xg::Tensor x = xg::input(xt::zeros<float>({4, 7, 7, 3}));
    const xg::Tensor k = xg::input(xt::zeros<float>({3, 3, 2, 8}));
    const xg::Tensor k3 = xg::input(xt::zeros<float>({3, 3, 3, 8}));
    CHECK_THROWS_WITH_AS(xg::conv2d(x, k),
                         "conv2d: kernel (3, 3, 2, 8) has 2 input channels but x (4, 7, 7, 3) has 3; expected equal",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d(xg::input(xt::zeros<float>({7, 7, 3})), k),
                         doctest::Contains("conv2d: x has shape (7, 7, 3) (rank 3); expected rank 4"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d(x, xg::input(xt::zeros<float>({3, 3, 3}))),
                         doctest::Contains("conv2d: kernel has shape (3, 3, 3) (rank 3); expected rank 4"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d(x, xg::input(xt::zeros<float>({9, 3, 3, 8}))),
                         doctest::Contains("conv2d: kernel (9, 3) is larger than the input's rows and columns (7, 7) of "
                                           "x (4, 7, 7, 3) with padding 'valid'"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d(x, xg::input(xt::zeros<float>({3, 3, 3, 8})), xg::Size2{0, 1}),
                         doctest::Contains("conv2d: strides are (0, 1); expected both >= 1"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::conv2d(x, k3, {1, 1}, Padding::valid, {1, 0}),
                         "conv2d: dilation is (1, 0); expected both >= 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::conv2d(x, k3, {1, 1}, Padding::valid, {4, 1}),
                         "conv2d: kernel (3, 3) (spanning (9, 3) with dilation (4, 1)) is larger than the input's rows "
                         "and columns (7, 7) of x (4, 7, 7, 3) with padding 'valid'; expected a window that fits",
                         xg::ShapeError);
    // A span no image has, even where `same` padding would otherwise pad up to it.
    CHECK_THROWS_WITH_AS(xg::conv2d(x, k3, {1, 1}, Padding::same, {1, std::size_t{1} << 62}),
                         doctest::Contains("conv2d: kernel (3, 3) with dilation (1, 4611686018427387904) spans more "
                                           "than 2147483648 pixels"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::conv2d_with_bias(x, k3, xg::input(xt::zeros<float>({3}))),
                         doctest::Contains("conv2d_with_bias: bias has shape (3,); expected (8,) to match kernel (3, 3, 3, 8)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::parse_padding("full", "conv2d"),
                         "conv2d: padding 'full' is unknown; expected 'valid' or 'same'", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::conv2d_backward_input(xg::input(xt::zeros<float>({4, 5, 5, 7})), k3, {4, 7, 7, 3}),
                         doctest::Contains("conv2d_backward_input: dy has shape (4, 5, 5, 7); expected (4, 5, 5, 8)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d_backward_kernel(x, xg::input(xt::zeros<float>({4, 7, 7, 8})), {3, 3, 3, 8}),
                         doctest::Contains("conv2d_backward_kernel: dy has shape (4, 7, 7, 8); expected (4, 5, 5, 8)"),
                         xg::ShapeError);
    // An asked-for shape past any array (a transposed convolution's output, dilated far) is an error, not an allocation.
    // Here a 3x3 kernel 2^29 apart spans the whole 2^30 + 1 rows and columns: one window, as dy says.
    const std::size_t far = (std::size_t{1} << 30) + 1;
    CHECK_THROWS_WITH_AS(xg::conv2d_backward_input(xg::input(xt::zeros<float>({1, 1, 1, 8})), k3, {1, far, far, 3}, {1, 1},
                                                   Padding::valid, {far / 2, far / 2}),
                         doctest::Contains("conv2d_backward_input: shape (1, 1073741825, 1073741825, 3)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::conv2d_backward_kernel(x, xg::input(xt::zeros<float>({4, 5, 5, 8})), {3, 3, 8}),
                         doctest::Contains("conv2d_backward_kernel: kernel has shape (3, 3, 8) (rank 3)"), xg::ShapeError);
}

TEST_CASE("conv2d and its gradients agree on images large enough to be lowered a few at a time") {
    // Each image's patch matrix (38 * 38 * 3 * 3 * 8 floats, 416 KiB) is close to the kernels'
    // chunk (512 KiB per BLAS thread), so the batch of 3 is lowered in two or three chunks.
    xt::random::seed(13);
    for (Padding p : {Padding::valid, Padding::same}) {
        CAPTURE(xg::padding_name(p));
        const xg::Array x = uniform({3, 40, 40, 8}), k = uniform({3, 3, 8, 5});
        const xg::Tensor y = xg::conv2d(xg::input(x), xg::input(k), {1, 1}, p);
        CHECK(xt::allclose(y.value(), reference_conv(x, k, {1, 1}, p), 1e-4, 1e-4));
        // Adjoint identities: <conv2d(x, k), dy> = <x, dx> = <k, dk>, both gradients linear.
        const xg::Array dy = uniform(y.shape());
        const xg::Array dx = xg::conv2d_backward_input(xg::input(dy), xg::input(k), x.shape(), {1, 1}, p).value();
        const xg::Array dk = xg::conv2d_backward_kernel(xg::input(x), xg::input(dy), k.shape(), {1, 1}, p).value();
        const double forward = xt::sum(xt::cast<double>(y.value()) * dy)();
        CHECK(xt::sum(xt::cast<double>(x) * dx)() == doctest::Approx(forward).epsilon(1e-4));
        CHECK(xt::sum(xt::cast<double>(k) * dk)() == doctest::Approx(forward).epsilon(1e-4));
    }
}
