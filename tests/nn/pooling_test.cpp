// MaxPooling2D and AveragePooling2D: Keras's defaults (2x2, strides = pool size, valid), the
// values against a direct loop, output shapes with strides and padding, errors, gradients.
#include "xgrad/nn/pooling.hpp"

#include <algorithm>
#include <random>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
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
