// GlobalAveragePooling2D and GlobalMaxPooling2D: Keras's names and shapes, each channel's mean
// and maximum against a direct loop, keepdims, NaN, errors, first and second derivatives; and
// GlobalAveragePooling1D and GlobalMaxPooling1D over the steps of sequences.
#include "xgrad/nn/global_pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <doctest/doctest.h>
#include <xtensor/xmanipulation.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;
using xg::test::check_close;

// Each channel's mean or maximum over every pixel: (n, H, W, C) -> (n, C).
xg::Array direct_global_pool(const xg::Array& x, bool take_max) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    xg::Array y = xt::zeros<float>({n, c});
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t k = 0; k < c; ++k) {
            double total = 0.0;
            float best = x(b, 0, 0, k);
            for (std::size_t i = 0; i < h; ++i)
                for (std::size_t j = 0; j < w; ++j) {
                    total += x(b, i, j, k);
                    best = std::max(best, x(b, i, j, k));
                }
            y(b, k) = take_max ? best : static_cast<float>(total / static_cast<double>(h * w));
        }
    return y;
}

}  // namespace

TEST_CASE("global pooling layers take Keras's names and reduce (H, W, C) to (C,), or (1, 1, C) with keepdims") {
    xg::GlobalAveragePooling2D average;
    xg::GlobalMaxPooling2D maximum;
    CHECK(average.name() == "global_average_pooling2d_1");
    CHECK(maximum.name() == "global_max_pooling2d_1");
    CHECK(average.kind() == "GlobalAveragePooling2D");
    CHECK_FALSE(average.keepdims());
    CHECK(average.parameters().empty());
    CHECK(average.output_shape({7, 5, 64}) == xg::Shape{64});
    CHECK(xg::GlobalMaxPooling2D({.keepdims = true}).output_shape({7, 5, 64}) == xg::Shape{1, 1, 64});
    CHECK(average.config()->at("keepdims") == "false");
    CHECK(xg::GlobalAveragePooling2D({.keepdims = true, .name = "gap"}).config()->at("keepdims") == "true");
}

TEST_CASE("a summary shows the pooled shapes in a convnet's head, with no parameters of their own") {
    xg::Sequential model;
    model.emplace<xg::Conv2D>(3, 8, xg::Size2{3, 3}, "relu");
    model.emplace<xg::GlobalMaxPooling2D>(xg::GlobalPooling2DOptions{.keepdims = true});
    model.emplace<xg::GlobalAveragePooling2D>();
    model.emplace<xg::Dense>(8, 2);
    const std::string s = model.summary({32, 24, 3});
    CAPTURE(s);
    CHECK(s.find("global_max_pooling2d_1 (GlobalMaxPooling2D)") != std::string::npos);
    CHECK(s.find("(None, 1, 1, 8)") != std::string::npos);
    CHECK(s.find("global_average_pooling2d_1 (GlobalAveragePooling2D)") != std::string::npos);
    CHECK(s.find("(None, 8)") != std::string::npos);
    CHECK(s.find("Total params: 242") != std::string::npos);  // 3*3*3*8 + 8 + 8*2 + 2
}

TEST_CASE("GlobalAveragePooling2D and GlobalMaxPooling2D give each channel's mean and maximum, as a direct loop does") {
    const xg::Array x = random_array({3, 5, 7, 4}, 1);
    xg::GlobalAveragePooling2D average;
    xg::GlobalMaxPooling2D maximum;
    check_close(average(xg::input(x)).value(), direct_global_pool(x, false));
    check_close(maximum(xg::input(x)).value(), direct_global_pool(x, true));

    xg::GlobalAveragePooling2D kept({.keepdims = true});
    const xg::Array y = kept(xg::input(x)).value();
    CHECK(y.shape() == xg::Shape{3, 1, 1, 4});
    check_close(xt::reshape_view(y, {3, 4}), direct_global_pool(x, false));

    // One pixel: both are the identity on its channels.
    const xg::Array pixel = random_array({2, 1, 1, 3}, 2);
    check_close(maximum(xg::input(pixel)).value(), xt::reshape_view(pixel, {2, 3}));
    xg::Tape::current().clear();
}

TEST_CASE("a NaN pixel is its channel's maximum and spoils its mean, never another channel's") {
    xg::Array x = random_array({1, 3, 3, 2}, 3);
    x(0, 1, 2, 0) = std::numeric_limits<float>::quiet_NaN();
    const xg::Array top = xg::GlobalMaxPooling2D()(xg::input(x)).value();
    const xg::Array mean = xg::GlobalAveragePooling2D()(xg::input(x)).value();
    CHECK(std::isnan(top(0, 0)));
    CHECK(std::isnan(mean(0, 0)));
    CHECK_FALSE(std::isnan(top(0, 1)));
    CHECK_FALSE(std::isnan(mean(0, 1)));
    xg::Tape::current().clear();
}

TEST_CASE("global pooling errors name the layer and the shape") {
    xg::GlobalAveragePooling2D pool({.name = "gap"});
    CHECK_THROWS_WITH_AS(pool(xg::input(xt::zeros<float>({2, 4, 4}))),
                         "gap: input has shape (2, 4, 4); expected (batch, height, width, channels) with at least one "
                         "pixel",
                         xg::ShapeError);
    CHECK_THROWS_AS(pool(xg::input(xt::zeros<float>({2, 0, 4, 3}))), xg::ShapeError);
    CHECK_THROWS_AS(pool.output_shape({16}), xg::ShapeError);
    CHECK_THROWS_AS(xg::GlobalMaxPooling2D().output_shape({4, 0, 3}), xg::ShapeError);
    // An empty batch is a batch: zero rows of C features.
    CHECK(pool(xg::input(xt::zeros<float>({0, 4, 4, 3}))).shape() == xg::Shape{0, 3});
    CHECK(xg::GlobalMaxPooling2D({.keepdims = true})(xg::input(xt::zeros<float>({0, 4, 4, 3}))).shape() ==
          xg::Shape{0, 1, 1, 3});
    // No channels: no features, as output_shape says.
    CHECK(pool(xg::input(xt::zeros<float>({2, 4, 4, 0}))).shape() == xg::Shape{2, 0});
    CHECK(pool.output_shape({4, 4, 0}) == xg::Shape{0});
    xg::Tape::current().clear();
}

TEST_CASE("gradients of both global poolings, first and second order, match finite differences") {
    // Distinct values 0.05 apart in a random order, so that no finite-difference step moves a maximum.
    xg::Array x = xg::uninitialized({2, 3, 4, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = -1.0f + 0.05f * static_cast<float>(i);
    std::shuffle(x.begin(), x.end(), std::mt19937(4));
    xg::GlobalAveragePooling2D average({.keepdims = true});
    xg::GlobalMaxPooling2D maximum;
    // Squared, so that the second derivatives are not all zero.
    auto through_average = [&](const std::vector<xg::Tensor>& in) { return xg::square(average(in[0])); };
    auto through_max = [&](const std::vector<xg::Tensor>& in) { return xg::square(maximum(in[0])); };
    auto first_average = xg::gradcheck(through_average, {x});
    CHECK_MESSAGE(first_average.passed, first_average.report());
    auto first_max = xg::gradcheck(through_max, {x});
    CHECK_MESSAGE(first_max.passed, first_max.report());
    auto second_average = xg::gradgradcheck(through_average, {x});
    CHECK_MESSAGE(second_average.passed, second_average.report());
    auto second_max = xg::gradgradcheck(through_max, {x});
    CHECK_MESSAGE(second_max.passed, second_max.report());
}

TEST_CASE("GlobalAveragePooling1D and GlobalMaxPooling1D reduce each channel over the steps, keepdims too") {
    const xg::Array x = xg::test::random_array({3, 5, 4}, 10);
    xg::GlobalAveragePooling1D avg;
    xg::GlobalMaxPooling1D max_pool({.keepdims = true});
    CHECK(avg.name() == "global_average_pooling1d_1");
    CHECK(max_pool.name() == "global_max_pooling1d_1");
    const xg::Array a = avg(xg::input(x)).value();
    const xg::Array m = max_pool(xg::input(x)).value();
    REQUIRE(a.shape() == xg::Shape{3, 4});
    REQUIRE(m.shape() == xg::Shape{3, 1, 4});
    for (std::size_t b = 0; b < 3; ++b) {
        for (std::size_t c = 0; c < 4; ++c) {
            double total = 0.0, best = -1e30;
            for (std::size_t t = 0; t < 5; ++t) {
                total += x(b, t, c);
                best = std::max(best, static_cast<double>(x(b, t, c)));
            }
            CHECK(a(b, c) == doctest::Approx(total / 5.0));
            CHECK(m(b, 0, c) == static_cast<float>(best));
        }
    }
    CHECK(avg.output_shape({5, 4}) == xg::Shape{4});
    CHECK(max_pool.output_shape({5, 4}) == xg::Shape{1, 4});
    for (xg::Module* layer : {static_cast<xg::Module*>(&avg), static_cast<xg::Module*>(&max_pool)}) {
        CAPTURE(layer->kind());
        auto f = [layer](const std::vector<xg::Tensor>& in) { return (*layer)(in[0]); };
        const auto second = xg::gradgradcheck(f, {x});
        CHECK_MESSAGE(second.passed, second.report());
        auto rebuilt = xg::make_layer(layer->kind(), *layer->config(), "again");
        CHECK((*rebuilt)(xg::input(x)).value() == (*layer)(xg::input(x)).value());
    }
    // No sequences: an empty result; no steps or another rank: an error naming the layer.
    CHECK(avg(xg::input(xt::zeros<float>({0, 5, 4}))).shape() == xg::Shape{0, 4});
    CHECK_THROWS_WITH_AS(avg(xg::input(xt::zeros<float>({2, 0, 4}))),
                         "global_average_pooling1d_1: input has shape (2, 0, 4); expected (batch, steps, channels) with at "
                         "least one step",
                         xg::ShapeError);
    CHECK_THROWS_AS(max_pool(xg::input(xt::zeros<float>({2, 3, 3, 4}))), xg::ShapeError);
    CHECK_THROWS_AS(max_pool.output_shape({3, 3, 4}), xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("GlobalAveragePooling1D with a mask averages the steps it keeps; a sequence of padding alone gives zeros") {
    const xg::Array x = xg::test::random_array({3, 4, 2}, 20);
    const xg::Array mask = {{1.0f, 0.0f, 1.0f, 0.0f}, {1.0f, 1.0f, 1.0f, 1.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
    for (const bool keepdims : {false, true}) {
        CAPTURE(keepdims);
        xg::GlobalAveragePooling1D pool({.keepdims = keepdims});
        const xg::Masked out = pool.call_masked(xg::input(x), xg::input(mask));
        CHECK_FALSE(out.mask.defined());
        const xg::Array y = xt::reshape_view(out.output.value(), {3, 2});
        for (std::size_t c = 0; c < 2; ++c) {
            CHECK(y(0, c) == doctest::Approx((x(0, 0, c) + x(0, 2, c)) / 2.0f));
            CHECK(y(1, c) == doctest::Approx((x(1, 0, c) + x(1, 1, c) + x(1, 2, c) + x(1, 3, c)) / 4.0f));
            CHECK(y(2, c) == 0.0f);
        }
    }
    xg::GlobalAveragePooling1D pool;
    auto f = [&pool, &mask](const std::vector<xg::Tensor>& in) { return pool.call_masked(in[0], xg::input(mask)).output; };
    const auto second = xg::gradgradcheck(f, {x});
    CHECK_MESSAGE(second.passed, second.report());
    // An empty batch passes through.
    CHECK(pool.call_masked(xg::input(xt::zeros<float>({0, 4, 2})), xg::input(xt::zeros<float>({0, 4}))).output.shape() ==
          xg::Shape{0, 2});
    // GlobalMaxPooling1D has no masked form: a mask is an error, not ignored.
    xg::GlobalMaxPooling1D max_pool;
    CHECK_THROWS_AS(max_pool.call_masked(xg::input(x), xg::input(mask)), xg::ValueError);
}
