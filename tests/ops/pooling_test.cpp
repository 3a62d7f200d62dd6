// Tests for lib/xgrad/ops/pooling.cpp: max_pool2d, avg_pool2d and their gradient ops.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace {

using xg::Padding;
using xg::Size2;

using xg::test::distinct;

using xg::test::uniform;

// Pooling as a direct loop: Keras's padding computed here on its own, padding never counted.
xg::Array reference_pool(const xg::Array& x, Size2 k, Size2 s, Padding padding, bool take_max) {
    const long n = x.shape(0), h = x.shape(1), w = x.shape(2), c = x.shape(3);
    auto axis = [&](long in, long kk, long ss, long& out) {
        if (padding == Padding::valid) {
            out = (in - kk) / ss + 1;
            return 0L;
        }
        out = (in + ss - 1) / ss;
        return std::max((out - 1) * ss + kk - in, 0L) / 2;
    };
    long oh = 0, ow = 0;
    const long top = axis(h, long(k[0]), long(s[0]), oh), left = axis(w, long(k[1]), long(s[1]), ow);
    xg::Array y = xt::zeros<float>({std::size_t(n), std::size_t(oh), std::size_t(ow), std::size_t(c)});
    for (long b = 0; b < n; ++b)
        for (long oy = 0; oy < oh; ++oy)
            for (long ox = 0; ox < ow; ++ox)
                for (long ch = 0; ch < c; ++ch) {
                    float best = -std::numeric_limits<float>::infinity();
                    double sum = 0;
                    long count = 0;
                    for (long ky = 0; ky < long(k[0]); ++ky)
                        for (long kx = 0; kx < long(k[1]); ++kx) {
                            const long iy = oy * long(s[0]) - top + ky, ix = ox * long(s[1]) - left + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            best = std::max(best, x(b, iy, ix, ch));
                            sum += x(b, iy, ix, ch);
                            ++count;
                        }
                    y(b, oy, ox, ch) = take_max ? best : float(sum / double(count));
                }
    return y;
}

struct PoolCase {
    xg::Shape x;
    Size2 pool;
    Size2 strides;
    Padding padding;
};

std::vector<PoolCase> pool_cases() {
    std::vector<PoolCase> out;
    for (Padding p : {Padding::valid, Padding::same}) {
        out.push_back({{2, 5, 7, 3}, {2, 2}, {2, 2}, p});
        out.push_back({{1, 7, 5, 2}, {3, 3}, {1, 1}, p});
        out.push_back({{2, 5, 5, 1}, {3, 2}, {2, 1}, p});
        out.push_back({{1, 4, 6, 2}, {2, 3}, {1, 2}, p});
    }
    out.push_back({{1, 2, 3, 2}, {4, 4}, {1, 1}, Padding::same});  // window larger than the image
    return out;
}

std::string describe_pool(const PoolCase& c) {
    return xg::format_shape(c.x) + " pool (" + std::to_string(c.pool[0]) + ", " + std::to_string(c.pool[1]) + ") " +
           xg::window_attributes(c.strides, c.padding).to_string();
}

}  // namespace

TEST_CASE("max_pool2d and avg_pool2d match a direct loop") {
    unsigned seed = 1;
    for (const PoolCase& c : pool_cases()) {
        CAPTURE(describe_pool(c));
        const xg::Array x = distinct(c.x, seed++);
        const xg::Tensor mx = xg::max_pool2d(xg::input(x), c.pool, c.strides, c.padding);
        const xg::Tensor av = xg::avg_pool2d(xg::input(x), c.pool, c.strides, c.padding);
        const xg::Array emax = reference_pool(x, c.pool, c.strides, c.padding, true);
        const xg::Array eavg = reference_pool(x, c.pool, c.strides, c.padding, false);
        REQUIRE(mx.shape() == emax.shape());
        CHECK(mx.value() == emax);
        REQUIRE(av.shape() == eavg.shape());
        CHECK(xt::allclose(av.value(), eavg, 1e-5, 1e-6));
    }
}

TEST_CASE("pooling strides default to the pool size, and same padding counts only image elements") {
    xg::Array x = xt::arange<float>(1.0f, 10.0f);
    x.reshape({1, 3, 3, 1});
    const xg::Tensor t = xg::input(x);
    CHECK(xg::max_pool2d(t).shape() == xg::Shape{1, 1, 1, 1});
    // same, 2x2 windows, stride 2: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    xg::Array avg = xg::Array{{3.0f, 4.5f}, {7.5f, 9.0f}};
    avg.reshape({1, 2, 2, 1});
    CHECK(xg::avg_pool2d(t, {2, 2}, {0, 0}, Padding::same).value() == avg);
    xg::Array mx = xg::Array{{5.0f, 6.0f}, {8.0f, 9.0f}};
    mx.reshape({1, 2, 2, 1});
    CHECK(xg::max_pool2d(t, {2, 2}, {0, 0}, Padding::same).value() == mx);
    // Negative values next to the padding stay the maximum: padding is not a zero.
    const xg::Tensor neg = xg::input(-x);
    CHECK(xg::max_pool2d(neg, {2, 2}, {2, 2}, Padding::same).value()(0, 1, 1, 0) == -9.0f);
}

TEST_CASE("max_pool2d and avg_pool2d pass gradcheck") {
    unsigned seed = 20;
    for (const PoolCase& c : pool_cases()) {
        CAPTURE(describe_pool(c));
        const auto mx = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) { return xg::max_pool2d(in[0], c.pool, c.strides, c.padding); },
            {distinct(c.x, seed++)});
        CHECK_MESSAGE(mx.passed, mx.report());
        const auto av = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) { return xg::avg_pool2d(in[0], c.pool, c.strides, c.padding); },
            {uniform(c.x)});
        CHECK_MESSAGE(av.passed, av.report());
    }
}

TEST_CASE("the pooling gradient ops compute the pooling gradients and pass gradcheck") {
    unsigned seed = 40;
    xt::random::seed(4);
    for (const PoolCase& c : pool_cases()) {
        CAPTURE(describe_pool(c));
        const xg::Array xv = distinct(c.x, seed++);
        const xg::Tensor x = xg::parameter(xv, "x");
        const xg::Tensor y = xg::max_pool2d(x, c.pool, c.strides, c.padding);
        const xg::Array dy = uniform(y.shape());
        y.backward(dy);
        const xg::Tensor dx = xg::max_pool2d_backward(xg::input(xv), xg::input(dy), c.pool, c.strides, c.padding);
        CHECK(xt::allclose(dx.value(), x.grad()));
        // max_pool2d(x) is the gather of x at its own maxima.
        CHECK(xg::max_pool2d_gather(xg::input(xv), xg::input(xv), c.pool, c.strides, c.padding).value() == y.value());

        const xg::Tensor xa = xg::parameter(xv, "xa");
        const xg::Tensor ya = xg::avg_pool2d(xa, c.pool, c.strides, c.padding);
        ya.backward(dy);
        CHECK(xt::allclose(xg::avg_pool2d_backward(xg::input(dy), c.x, c.pool, c.strides, c.padding).value(), xa.grad()));

        // The gradient ops' own gradients (with x fixed: max pooling only chooses where values go).
        const xg::Tensor fixed = xg::input(xv);
        const auto scatter = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::max_pool2d_backward(fixed, in[0], c.pool, c.strides, c.padding);
            },
            {uniform(y.shape())});
        CHECK_MESSAGE(scatter.passed, scatter.report());
        const auto gather = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::max_pool2d_gather(fixed, in[0], c.pool, c.strides, c.padding);
            },
            {uniform(c.x)});
        CHECK_MESSAGE(gather.passed, gather.report());
        const auto avg = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::avg_pool2d_backward(in[0], c.x, c.pool, c.strides, c.padding);
            },
            {uniform(y.shape())});
        CHECK_MESSAGE(avg.passed, avg.report());
    }
}

TEST_CASE("max_pool2d, avg_pool2d and their gradient ops pass gradgradcheck") {
    // x is an input too where it chooses the maxima: its second derivatives are 0, as the finite
    // differences find (distinct values keep every window's maximum in place under the step).
    unsigned seed = 60;
    xt::random::seed(6);
    for (const PoolCase& c : pool_cases()) {
        CAPTURE(describe_pool(c));
        const xg::Shape y_shape = xg::max_pool2d(xg::input(xt::zeros<float>(c.x)), c.pool, c.strides, c.padding).shape();
        const auto mx = [&](const std::vector<xg::Tensor>& in) { return xg::max_pool2d(in[0], c.pool, c.strides, c.padding); };
        const auto scatter = [&](const std::vector<xg::Tensor>& in) {
            return xg::max_pool2d_backward(in[0], in[1], c.pool, c.strides, c.padding);
        };
        const auto gather = [&](const std::vector<xg::Tensor>& in) {
            return xg::max_pool2d_gather(in[0], in[1], c.pool, c.strides, c.padding);
        };
        const auto av = [&](const std::vector<xg::Tensor>& in) { return xg::avg_pool2d(in[0], c.pool, c.strides, c.padding); };
        const auto av_grad = [&](const std::vector<xg::Tensor>& in) {
            return xg::avg_pool2d_backward(in[0], c.x, c.pool, c.strides, c.padding);
        };
        const std::vector<xg::Array> x{distinct(c.x, seed++)};
        const std::vector<xg::Array> x_dy{distinct(c.x, seed++), uniform(y_shape)};
        const std::vector<xg::Array> x_source{distinct(c.x, seed++), uniform(c.x)};
        const std::vector<xg::Array> dy{uniform(y_shape)};
        xg::test::check_second_order(mx, x);
        xg::test::check_second_order(scatter, x_dy);
        xg::test::check_second_order(gather, x_source);
        xg::test::check_second_order(av, x);
        xg::test::check_second_order(av_grad, dy);
        // Through a nonlinearity the pooled values meet their own gradient: a nonzero Hessian.
        xg::test::check_second_order([&](const std::vector<xg::Tensor>& in) { return xg::tanh(mx(in)); }, x);
        xg::test::check_second_order([&](const std::vector<xg::Tensor>& in) { return xg::tanh(av(in)); }, x);
    }
}

TEST_CASE("max_pool2d passes NaN through and sends its gradient to one maximal element") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    xg::Array xv = xg::Array{{1.0f, nan}, {3.0f, 2.0f}};
    xv.reshape({1, 2, 2, 1});
    const xg::Tensor x = xg::parameter(xv, "x");
    const xg::Tensor y = xg::max_pool2d(x);
    CHECK(std::isnan(y.value()(0, 0, 0, 0)));
    xg::sum(y).backward();
    CHECK(x.grad()(0, 0, 1, 0) == 1.0f);
    CHECK(xt::sum(x.grad())() == 1.0f);

    // Ties: exactly one element of the window gets the gradient.
    const xg::Tensor ties = xg::parameter(xt::ones<float>({1, 2, 2, 3}), "ties");
    xg::sum(xg::max_pool2d(ties)).backward();
    CHECK(xt::sum(ties.grad())() == 3.0f);
    CHECK(ties.grad()(0, 0, 0, 0) == 1.0f);
}

TEST_CASE("pooling rejects bad arguments naming the op, the shapes and the argument") {
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 3, 3, 4}));
    CHECK_THROWS_WITH_AS(xg::max_pool2d(xg::input(xt::zeros<float>({3, 3, 4}))),
                         doctest::Contains("max_pool2d: x has shape (3, 3, 4) (rank 3); expected rank 4"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::avg_pool2d(x, {4, 2}),
                         doctest::Contains("avg_pool2d: pool_size (4, 2) is larger than the input's rows and columns (3, 3) "
                                           "of x (2, 3, 3, 4) with padding 'valid'"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::max_pool2d(x, {2, 0}), doctest::Contains("max_pool2d: pool_size is (2, 0)"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::avg_pool2d(x, {2, 2}, {0, 2}), doctest::Contains("avg_pool2d: strides are (0, 2)"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::max_pool2d_backward(x, xg::input(xt::zeros<float>({2, 2, 2, 4}))),
                         doctest::Contains("max_pool2d_backward: dy has shape (2, 2, 2, 4); expected (2, 1, 1, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::max_pool2d_gather(x, xg::input(xt::zeros<float>({2, 3, 3, 3}))),
                         doctest::Contains("max_pool2d_gather: source has shape (2, 3, 3, 3); expected x's shape (2, 3, 3, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::avg_pool2d_backward(xg::input(xt::zeros<float>({2, 1, 1, 3})), {2, 3, 3, 4}),
                         doctest::Contains("avg_pool2d_backward: dy has shape (2, 1, 1, 3); expected (2, 1, 1, 4)"),
                         xg::ShapeError);
}
