// Tests for lib/xgrad/ops/reduction.cpp: sum, mean, max, min, argmax, argmin.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>
#include <xtensor/xsort.hpp>

#include "empty_tensor.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

using xg::test::distinct;

template <class F>
void check_gradients(F f, const xg::Array& x) {
    const auto result = xg::gradcheck(f, {x});
    CHECK_MESSAGE(result.passed, result.report());
}

const xg::Array matrix = {{1.0f, 5.0f, 3.0f}, {4.0f, 2.0f, 6.0f}};

}  // namespace

TEST_CASE("sum adds up everything or one axis") {
    const xg::Tensor x = xg::input(matrix);
    const xg::Tensor total = xg::sum(x);
    CHECK(total.rank() == 0);
    CHECK(total.item() == 21.0f);
    CHECK(xg::sum(x, 0).value() == xg::Array{5.0f, 7.0f, 9.0f});
    CHECK(xg::sum(x, 1).value() == xg::Array{9.0f, 12.0f});
    CHECK(xg::sum(x, -1).value() == xg::Array{9.0f, 12.0f});
    CHECK(xg::sum(x, 0, true).value() == xg::Array{{5.0f, 7.0f, 9.0f}});
    CHECK(xg::sum(x, 1, true).shape() == xg::Shape{2, 1});
    CHECK(xg::sum(xg::input(xt::zeros<float>({0, 3}))).item() == 0.0f);
}

TEST_CASE("mean averages everything or one axis") {
    const xg::Tensor x = xg::input(matrix);
    CHECK(xg::mean(x).item() == 3.5f);
    CHECK(xg::mean(x, 0).value() == xg::Array{2.5f, 3.5f, 4.5f});
    CHECK(xg::mean(x, -1).value() == xg::Array{3.0f, 4.0f});
    CHECK(xg::mean(x, 1, true).shape() == xg::Shape{2, 1});
}

TEST_CASE("max takes the largest element along an axis") {
    const xg::Tensor x = xg::input(matrix);
    CHECK(xg::max(x, 0).value() == xg::Array{4.0f, 5.0f, 6.0f});
    CHECK(xg::max(x, 1).value() == xg::Array{5.0f, 6.0f});
    CHECK(xg::max(x, -1, true).shape() == xg::Shape{2, 1});
    CHECK(xg::max(xg::input(xg::Array{-3.0f, -1.0f, -2.0f}), 0).item() == -1.0f);
}

TEST_CASE("min takes the smallest element along an axis") {
    const xg::Tensor x = xg::input(matrix);
    CHECK(xg::min(x, 0).value() == xg::Array{1.0f, 2.0f, 3.0f});
    CHECK(xg::min(x, 1).value() == xg::Array{1.0f, 2.0f});
    CHECK(xg::min(x, -2, true).value() == xg::Array{{1.0f, 2.0f, 3.0f}});
    CHECK(xg::min(xg::input(xg::Array{-3.0f, -1.0f, -4.0f}), 0).item() == -4.0f);
}

TEST_CASE("max sends the gradient to the first maximal element only") {
    const xg::Tensor x = xg::parameter(xg::Array{{1.0f, 3.0f, 3.0f}, {2.0f, 0.0f, 2.0f}}, "x");
    xg::sum(xg::max(x, 1)).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
}

TEST_CASE("min sends the gradient to the first minimal element only") {
    const xg::Tensor x = xg::parameter(xg::Array{{1.0f, 3.0f, 1.0f}, {2.0f, 0.0f, 0.0f}}, "x");
    xg::sum(xg::min(x, 1) * xg::constant(xg::Array{2.0f, 3.0f})).backward();
    CHECK(x.grad() == xg::Array{{2.0f, 0.0f, 0.0f}, {0.0f, 3.0f, 0.0f}});
}

TEST_CASE("reduction gradients spread dL/dy over the reduced axis") {
    const xg::Tensor x = xg::parameter(matrix, "x");
    SUBCASE("sum") {
        xg::sum(x, 0).backward(xg::Array{1.0f, 2.0f, 3.0f});
        CHECK(x.grad() == xg::Array{{1.0f, 2.0f, 3.0f}, {1.0f, 2.0f, 3.0f}});
    }
    SUBCASE("mean") {
        xg::mean(x, 1).backward(xg::Array{3.0f, 6.0f});
        CHECK(x.grad() == xg::Array{{1.0f, 1.0f, 1.0f}, {2.0f, 2.0f, 2.0f}});
    }
    SUBCASE("mean of everything") {
        xg::mean(x).backward();
        CHECK(x.grad() == xg::Array(xg::Shape{2, 3}, 1.0f / 6.0f));
    }
}

TEST_CASE("sum, mean, max and min pass gradcheck on every axis, with and without keepdims") {
    xt::random::seed(61);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 3, 4}}) {
        CAPTURE(xg::format_shape(shape));
        const xg::Array x = uniform(shape);
        const xg::Array spaced = distinct(shape, 62);
        check_gradients([](const std::vector<xg::Tensor>& in) { return xg::sum(in[0]); }, x);
        check_gradients([](const std::vector<xg::Tensor>& in) { return xg::mean(in[0]); }, x);
        const long rank = static_cast<long>(shape.size());
        for (long axis = -rank; axis < rank; ++axis) {
            for (bool keepdims : {false, true}) {
                CAPTURE(axis);
                CAPTURE(keepdims);
                check_gradients([=](const std::vector<xg::Tensor>& in) { return xg::sum(in[0], axis, keepdims); }, x);
                check_gradients([=](const std::vector<xg::Tensor>& in) { return xg::mean(in[0], axis, keepdims); }, x);
                check_gradients([=](const std::vector<xg::Tensor>& in) { return xg::max(in[0], axis, keepdims); },
                                spaced);
                check_gradients([=](const std::vector<xg::Tensor>& in) { return xg::min(in[0], axis, keepdims); },
                                spaced);
            }
        }
    }
}

TEST_CASE("sum of a 0-d tensor passes gradcheck") {
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::sum(in[0] * in[0]); }, xg::scalar_array(0.7f));
}

TEST_CASE("an axis out of range is a ShapeError naming the op") {
    const xg::Tensor x = xg::input(matrix);
    CHECK_THROWS_WITH_AS(xg::sum(x, 2), doctest::Contains("sum: axis 2 is out of range for a tensor of rank 2"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::mean(x, -3), doctest::Contains("mean: axis -3 is out of range"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::max(x, 5), doctest::Contains("max: axis 5 is out of range"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::min(x, -3), doctest::Contains("min: axis -3 is out of range"), xg::ShapeError);
    CHECK_THROWS_AS(xg::sum(xg::input(xg::scalar_array(1.0f)), 0), xg::ShapeError);
}

TEST_CASE("mean, max and min over nothing are a ShapeError naming the empty axis") {
    const xg::Tensor empty = xg::input(xt::zeros<float>({0, 3}));
    CHECK_THROWS_WITH_AS(xg::mean(empty), doctest::Contains("mean: tensor (0, 3) is empty"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::mean(empty, 0),
                         doctest::Contains("mean: axis 0 of tensor (0, 3) is empty; expected at least one element"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::max(empty, -2), doctest::Contains("max: axis 0 of tensor (0, 3) is empty"), xg::ShapeError);
    CHECK_THROWS_AS(xg::max(xg::input(xt::zeros<float>({0})), 0), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::min(xg::input(xt::zeros<float>({3, 0})), 1),
                         doctest::Contains("min: axis 1 of tensor (3, 0) is empty"), xg::ShapeError);
}

TEST_CASE("mean, max and min of an empty tensor along a non-empty axis are empty, forward and backward") {
    // An empty batch of rows, each reduced: as numpy and PyTorch, a result of no rows.
    using xg::test::check_empty;
    check_empty([](const xg::Tensor& x) { return xg::mean(x, 1); }, {0, 3}, {0});
    check_empty([](const xg::Tensor& x) { return xg::max(x, -1, true); }, {0, 3}, {0, 1});
    check_empty([](const xg::Tensor& x) { return xg::min(x, 0); }, {3, 0}, {0});
}

TEST_CASE("reductions record their axis") {
    xg::Tape::current().clear();
    const xg::Tensor x = xg::parameter(matrix, "x");
    CHECK(xg::sum(x, -1).creator()->attributes().to_string() == "axis=1");
    CHECK(xg::mean(x, 0, true).creator()->attributes().to_string() == "axis=0, keepdims");
    CHECK(xg::max(x, 1).creator()->op == "max");
    CHECK(xg::min(x, 0).creator()->op == "min");
    CHECK(xg::min(x, 0).creator()->attributes().to_string() == "axis=0");
    xg::Tape::current().clear();
}

TEST_CASE("sum of an empty tensor is 0, forward and backward; along an axis it keeps the other extents") {
    using xg::test::check_empty;
    check_empty([](const xg::Tensor& x) { return xg::sum(x); }, {0, 3}, {});
    CHECK(xg::sum(xg::input(xt::zeros<float>({0, 3}))).item() == 0.0f);
    check_empty([](const xg::Tensor& x) { return xg::sum(x, 0); }, {0, 3}, {3});
    check_empty([](const xg::Tensor& x) { return xg::sum(x, 1, true); }, {0, 3}, {0, 1});
    CHECK(xg::sum(xg::input(xt::zeros<float>({0, 3})), 0).value() == xt::zeros<float>({3}));
}

TEST_CASE("max and min of a row holding NaN are NaN, as in numpy") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    xg::Tensor x = xg::parameter(xg::Array{{1.0f, nan, 3.0f}, {nan, 5.0f, 4.0f}, {1.0f, 2.0f, 0.0f}}, "x");
    const xg::Tensor m = xg::max(x, 1);
    CHECK(std::isnan(m.value()(0)));
    CHECK(std::isnan(m.value()(1)));
    CHECK(m.value()(2) == 2.0f);
    // The gradient goes to the first NaN, the element that made the maximum.
    xg::sum(m).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f}});
    x.zero_grad();
    const xg::Tensor low = xg::min(x, 1);
    CHECK(std::isnan(low.value()(0)));
    CHECK(std::isnan(low.value()(1)));
    CHECK(low.value()(2) == 0.0f);
    xg::sum(low).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
}

TEST_CASE("sum, mean, max and min pass gradgradcheck on every axis (max and min without ties)") {
    xt::random::seed(61);
    const xg::Shape shape{2, 3, 4};
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::sum(x[0]); }, {uniform(shape)});
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::mean(x[0]); }, {uniform(shape)});
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::sum(x[0]); }, {uniform({})});
    for (long axis : {0L, 1L, 2L, -1L}) {
        for (bool keepdims : {false, true}) {
            CAPTURE(axis);
            CAPTURE(keepdims);
            xg::test::check_second_order(
                [=](const std::vector<xg::Tensor>& x) { return xg::sum(x[0], axis, keepdims); }, {uniform(shape)});
            xg::test::check_second_order(
                [=](const std::vector<xg::Tensor>& x) { return xg::mean(x[0], axis, keepdims); }, {uniform(shape)});
            xg::test::check_second_order(
                [=](const std::vector<xg::Tensor>& x) { return xg::max(x[0], axis, keepdims); }, {distinct(shape, 62)});
            xg::test::check_second_order(
                [=](const std::vector<xg::Tensor>& x) { return xg::min(x[0], axis, keepdims); }, {distinct(shape, 63)});
        }
    }
}

TEST_CASE("argmax and argmin give the index of the first extremum along an axis, as floats, with or without keepdims") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 5.0f, 5.0f}, {4.0f, 2.0f, 6.0f}});
    CHECK(xg::argmax(x).value() == xg::Array{1.0f, 2.0f});  // a tie: the first of them
    CHECK(xg::argmax(x, 0).value() == xg::Array{1.0f, 0.0f, 1.0f});
    xg::Array lowest = {0.0f, 1.0f};
    lowest.reshape({2, 1});
    CHECK(xg::argmin(x, -1, true).value() == lowest);
    CHECK(xg::argmin(x, 0, true).value() == xg::Array{{0.0f, 1.0f, 0.0f}});
    // Any axis of a rank-3 tensor: the same as numpy's argmax over it.
    const xg::Array cube = distinct({2, 3, 4}, 5);
    for (long axis = 0; axis < 3; ++axis) {
        const xg::Array want = xt::cast<float>(xt::argmax(cube, static_cast<std::size_t>(axis)));
        CHECK(xg::argmax(xg::input(cube), axis).value() == want);
        const xg::Array low = xt::cast<float>(xt::argmin(cube, static_cast<std::size_t>(axis)));
        CHECK(xg::argmin(xg::input(cube), axis - 3).value() == low);
    }
}

TEST_CASE("argmax and argmin pick the first NaN of a line, as numpy") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor x = xg::input(xg::Array{{1.0f, nan, 3.0f, nan}, {0.0f, 2.0f, -1.0f, 2.0f}});
    CHECK(xg::argmax(x, 1).value() == xg::Array{1.0f, 1.0f});
    CHECK(xg::argmin(x, 1).value() == xg::Array{1.0f, 2.0f});
}

TEST_CASE("argmax and argmin are recorded with their axis and pass no gradient, first or second") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor x = xg::parameter(xg::Array{{3.0f, 1.0f}, {0.5f, 2.0f}}, "x");
    const xg::Tensor index = xg::argmax(x, 1);
    REQUIRE(index.creator() != nullptr);
    CHECK(index.creator()->op == "argmax");
    CHECK(index.creator()->attributes().to_string() == "axis=1");
    CHECK(xg::argmin(x, 0, true).creator()->attributes().to_string() == "axis=0, keepdims");
    // x times its row's argmax: the index is a constant factor, d/dx is the index alone.
    xg::sum(x * xg::argmax(x, 1, true)).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 0.0f}, {1.0f, 1.0f}});
    const xg::Tensor g = xg::grad(xg::sum(x * x * xg::argmin(x, 1, true)), x, {.create_graph = true});
    CHECK(g.value() == xg::Array{{2.0f * 3.0f, 2.0f * 1.0f}, {0.0f, 0.0f}});
    CHECK(xg::grad(xg::sum(g), x).value() == xg::Array{{2.0f, 2.0f}, {0.0f, 0.0f}});
    tape.clear();
}

TEST_CASE("argmax and argmin refuse an axis out of range and an empty axis, naming the op") {
    CHECK_THROWS_WITH_AS(xg::argmax(xg::input(matrix), 2), doctest::Contains("argmax: axis 2 is out of range"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::argmin(xg::input(xt::zeros<float>({3, 0})), 1),
                         doctest::Contains("argmin: axis 1 of tensor (3, 0) is empty"), xg::ShapeError);
    CHECK_THROWS_AS(xg::argmax(xg::input(xg::scalar_array(1.0f))), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::argmax(xg::Tensor{}), "argmax: x is an empty handle; expected a tensor", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::max(xg::Tensor{}, 0), "max: x is an empty handle; expected a tensor", xg::ValueError);
    // Lines of an empty batch: no indices.
    CHECK(xg::argmax(xg::input(xt::zeros<float>({0, 3})), 1).shape() == xg::Shape{0});
}

TEST_CASE("sum and mean of all elements keep float's precision over many elements") {
    // 100,000 times 0.1f is 10000.000149 exactly; a float accumulator drifts from it by about 1e-4
    // relative, several hundred times float's precision.
    const xg::Array tenths = xt::ones<float>({100000}) * 0.1f;
    const double exact = 100000.0 * static_cast<double>(0.1f);
    CHECK(static_cast<double>(xg::sum(xg::input(tenths)).item()) == doctest::Approx(exact).epsilon(1e-7));
    CHECK(static_cast<double>(xg::mean(xg::input(tenths)).item()) == doctest::Approx(exact / 100000.0).epsilon(1e-7));
    // A length that is not a multiple of the lanes: the remainder counted once.
    const xg::Array odd = xt::arange<float>(1.0f, 12.0f);
    CHECK(xg::sum(xg::input(odd)).item() == 66.0f);
}
