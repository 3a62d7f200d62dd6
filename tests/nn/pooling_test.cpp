// MaxPooling2D and AveragePooling2D: Keras's defaults (2x2, strides = pool size, valid), the
// values against a direct loop, output shapes with strides and padding, errors, gradients; and
// the same for MaxPooling1D and AveragePooling1D along sequences.
#include "xgrad/nn/pooling.hpp"

#include <algorithm>
#include <random>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;
using xg::test::check_close;

// Valid pooling of windows p x p moved by s, by max or by mean.
xg::Array direct_pool(const xg::Array& x, std::size_t p, std::size_t s, bool take_max) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    const std::size_t oh = (h - p) / s + 1, ow = (w - p) / s + 1;
    xg::Array y = xt::zeros<float>({n, oh, ow, c});
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j)
                for (std::size_t k = 0; k < c; ++k) {
                    float best = x(b, i * s, j * s, k), total = 0.0f;
                    for (std::size_t a = 0; a < p; ++a)
                        for (std::size_t q = 0; q < p; ++q) {
                            best = std::max(best, x(b, i * s + a, j * s + q, k));
                            total += x(b, i * s + a, j * s + q, k);
                        }
                    y(b, i, j, k) = take_max ? best : total / static_cast<float>(p * p);
                }
    return y;
}

}  // namespace

TEST_CASE("pooling layers default to Keras's 2x2 windows, strides equal to the window, valid padding") {
    xg::MaxPooling2D max_pool;
    xg::AveragePooling2D avg_pool;
    CHECK(max_pool.name() == "max_pooling2d_1");
    CHECK(avg_pool.name() == "average_pooling2d_1");
    CHECK(max_pool.pool_size() == xg::Size2{2, 2});
    CHECK(max_pool.strides() == xg::Size2{2, 2});
    CHECK(max_pool.padding() == xg::Padding::valid);
    CHECK(xg::MaxPooling2D({3, 3}).strides() == xg::Size2{3, 3});
    CHECK(max_pool.parameters().empty());
    CHECK(max_pool.output_shape({26, 26, 32}) == xg::Shape{13, 13, 32});
    CHECK(max_pool.output_shape({11, 11, 64}) == xg::Shape{5, 5, 64});
    CHECK(xg::MaxPooling2D({2, 2}, {.padding = "same"}).output_shape({11, 11, 64}) == xg::Shape{6, 6, 64});
    CHECK(xg::AveragePooling2D({3, 3}, {.strides = {1, 1}}).output_shape({5, 6, 2}) == xg::Shape{3, 4, 2});
}

TEST_CASE("MaxPooling2D and AveragePooling2D give each window's max and mean, as a direct loop does") {
    const xg::Array x = random_array({2, 7, 6, 3}, 1);
    xg::MaxPooling2D max_pool;
    xg::AveragePooling2D avg_pool;
    check_close(max_pool(xg::input(x)).value(), direct_pool(x, 2, 2, true));
    check_close(avg_pool(xg::input(x)).value(), direct_pool(x, 2, 2, false));
    xg::MaxPooling2D overlapping({3, 3}, {.strides = {2, 2}});
    check_close(overlapping(xg::input(x)).value(), direct_pool(x, 3, 2, true));
    CHECK(overlapping(xg::input(x)).shape() == xg::Shape{2, 3, 2, 3});
    xg::Tape::current().clear();
}

TEST_CASE("pooling errors name the layer and the shape") {
    CHECK_THROWS_AS(xg::MaxPooling2D({0, 2}), xg::ValueError);
    CHECK_THROWS_AS(xg::AveragePooling2D({2, 2}, {.padding = "causal"}), xg::ValueError);
    xg::MaxPooling2D pool({2, 2}, {.name = "pool"});
    CHECK_THROWS_WITH_AS(pool(xg::input(xt::zeros<float>({2, 4, 4}))),
                         "pool: input has shape (2, 4, 4); expected (batch, height, width, channels)", xg::ShapeError);
    CHECK_THROWS_AS(pool.output_shape({16}), xg::ShapeError);
    CHECK_THROWS_AS(pool.output_shape({1, 1, 3}), xg::ShapeError);  // the window does not fit
}

TEST_CASE("gradients flow through both pooling layers") {
    const xg::Array x = random_array({2, 4, 5, 2}, 3);
    xg::MaxPooling2D max_pool({2, 2}, {.strides = {1, 2}, .padding = "same"});
    xg::AveragePooling2D avg_pool({2, 3}, {.strides = {2, 1}});
    auto max_result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return max_pool(in[0]); }, {x});
    CHECK_MESSAGE(max_result.passed, max_result.report());
    auto avg_result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return avg_pool(in[0]); }, {x});
    CHECK_MESSAGE(avg_result.passed, avg_result.report());
}

namespace {

// Pooling of windows of p steps moved by s, by max or by mean over the steps inside the sequence;
// `left` steps of padding before it (Keras's same: half the total, rounded down).
xg::Array direct_pool1d(const xg::Array& x, std::size_t p, std::size_t s, bool same, bool take_max) {
    const long n = static_cast<long>(x.shape()[0]), steps = static_cast<long>(x.shape()[1]), c = static_cast<long>(x.shape()[2]);
    const long stride = static_cast<long>(s), size = static_cast<long>(p);
    const long out = same ? (steps + stride - 1) / stride : (steps - size) / stride + 1;
    const long left = same ? std::max(0L, (out - 1) * stride + size - steps) / 2 : 0;
    xg::Array y = xt::zeros<float>({static_cast<std::size_t>(n), static_cast<std::size_t>(out), static_cast<std::size_t>(c)});
    for (long b = 0; b < n; ++b)
        for (long t = 0; t < out; ++t)
            for (long ch = 0; ch < c; ++ch) {
                double best = -1e30, total = 0.0;
                long count = 0;
                for (long q = 0; q < size; ++q) {
                    const long at = t * stride + q - left;
                    if (at < 0 || at >= steps) continue;
                    best = std::max(best, static_cast<double>(x(b, at, ch)));
                    total += x(b, at, ch);
                    ++count;
                }
                y(b, t, ch) = static_cast<float>(take_max ? best : total / static_cast<double>(count));
            }
    return y;
}

}  // namespace

TEST_CASE("MaxPooling1D and AveragePooling1D: Keras's defaults, and the values of a direct loop for each padding and stride") {
    xg::MaxPooling1D max_pool;
    xg::AveragePooling1D avg_pool;
    CHECK(max_pool.name() == "max_pooling1d_1");
    CHECK(avg_pool.name() == "average_pooling1d_1");
    CHECK(max_pool.pool_size() == 2);
    CHECK(max_pool.strides() == 2);
    CHECK(max_pool.output_shape({9, 3}) == xg::Shape{4, 3});
    const xg::Array x = random_array({2, 9, 3}, 8);
    for (const bool same : {false, true}) {
        for (const std::size_t strides : {1, 2, 3}) {
            CAPTURE(same);
            CAPTURE(strides);
            const xg::Pooling1DOptions options{.strides = strides, .padding = same ? "same" : "valid"};
            // Windows of 2 and 3: 'same' pads an odd total (the odd step after) and an even one.
            for (const std::size_t size : {2, 3}) {
                CAPTURE(size);
                xg::MaxPooling1D m(size, options);
                xg::AveragePooling1D a(size, options);
                check_close(m(xg::input(x)).value(), direct_pool1d(x, size, strides, same, true));
                check_close(a(xg::input(x)).value(), direct_pool1d(x, size, strides, same, false));
                CHECK(m.output_shape({9, 3})[0] == direct_pool1d(x, size, strides, same, true).shape()[1]);
            }
        }
    }
}

TEST_CASE("the 1-D poolings pass gradcheck and gradgradcheck, rebuild from their config, and name what is wrong") {
    const xg::Array x = random_array({2, 7, 2}, 9);
    xg::MaxPooling1D m(3, {.strides = 2, .padding = "same"});
    xg::AveragePooling1D a(2, {.strides = 1});
    for (xg::Module* layer : {static_cast<xg::Module*>(&m), static_cast<xg::Module*>(&a)}) {
        CAPTURE(layer->kind());
        auto f = [layer](const std::vector<xg::Tensor>& in) { return (*layer)(in[0]); };
        const auto first = xg::gradcheck(f, {x});
        CHECK_MESSAGE(first.passed, first.report());
        const auto second = xg::gradgradcheck(f, {x});
        CHECK_MESSAGE(second.passed, second.report());
        auto rebuilt = xg::make_layer(layer->kind(), *layer->config(), "again");
        CHECK((*rebuilt)(xg::input(x)).value() == (*layer)(xg::input(x)).value());
    }
    CHECK_THROWS_WITH_AS(xg::MaxPooling1D(0), "MaxPooling1D: pool_size 0; expected at least 1", xg::ValueError);
    CHECK_THROWS_AS(xg::AveragePooling1D(2, {.padding = "causal"}), xg::ValueError);
    xg::MaxPooling1D wide(5, {.name = "wide"});
    CHECK_THROWS_WITH_AS(wide(xg::input(xt::zeros<float>({1, 4, 2}))),
                         "wide: an input of 4 steps is shorter than pool_size 5 with padding 'valid'; expected at least 5 steps",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(wide(xg::input(xt::zeros<float>({1, 4, 4, 2}))),
                         "wide: input has shape (1, 4, 4, 2); expected (batch, steps, channels)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(wide.output_shape({0, 2}), "wide: an input of 0 steps; expected at least one", xg::ShapeError);
    xg::Tape::current().clear();
}
