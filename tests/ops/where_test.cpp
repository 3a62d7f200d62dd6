// Tests for lib/xgrad/ops/where.cpp: where(condition, a, b).
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/creation.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every shape triple (condition, a, b) where must handle: equal, each one broadcast, 0-d.
const std::vector<std::tuple<xg::Shape, xg::Shape, xg::Shape>> shape_triples = {
    {{3, 4}, {3, 4}, {3, 4}}, {{3, 1}, {3, 4}, {4}},    {{4}, {3, 1}, {1, 4}}, {{}, {3, 4}, {3, 4}},
    {{3, 4}, {}, {3, 4}},     {{2, 3, 4}, {3, 4}, {}},  {{}, {}, {}},          {{3, 4}, {2, 1, 1}, {4}},
};

// A condition of 0s and 1s, with a NaN and a -0.5 (both true) among them when it is large enough.
xg::Array mask(const xg::Shape& shape) {
    xg::Array m = xt::cast<float>(xt::random::randint<int>(shape, 0, 2));
    if (m.size() > 2) {
        m.data()[0] = kNaN;
        m.data()[1] = -0.5f;
    }
    return m;
}

}  // namespace

TEST_CASE("where picks a where the condition is not 0 (NaN included), b elsewhere, broadcasting all three") {
    const xg::Tensor c = xg::input(xg::Array{1.0f, 0.0f, kNaN, -0.0f, 2.5f});
    const xg::Tensor a = xg::input(xg::Array{1.0f, 2.0f, 3.0f, 4.0f, 5.0f});
    const xg::Tensor b = xg::input(xg::Array{-1.0f, -2.0f, -3.0f, -4.0f, -5.0f});
    CHECK(xg::where(c, a, b).value() == xg::Array{1.0f, -2.0f, 3.0f, -4.0f, 5.0f});
    // A column condition, a row and a 0-d b: (2, 1), (3,), () -> (2, 3).
    xg::Array column_values = {1.0f, 0.0f};
    column_values.reshape({2, 1});
    const xg::Tensor column = xg::input(column_values);
    const xg::Tensor row = xg::input(xg::Array{7.0f, 8.0f, 9.0f});
    const xg::Array picked = xg::where(column, row, xg::Tensor::scalar(-1.0f)).value();
    CHECK(picked == xg::Array{{7.0f, 8.0f, 9.0f}, {-1.0f, -1.0f, -1.0f}});
    // Three 0-d scalars.
    CHECK(xg::where(xg::Tensor::scalar(0.0f), xg::Tensor::scalar(1.0f), xg::Tensor::scalar(2.0f)).item() == 2.0f);
    // A NaN in the side not taken stays out.
    CHECK(xg::where(xg::Tensor::scalar(1.0f), xg::Tensor::scalar(1.0f), xg::Tensor::scalar(kNaN)).item() == 1.0f);
}

TEST_CASE("where's bad arguments are errors naming the op and every shape") {
    const xg::Tensor c = xg::input(xt::zeros<float>({2, 3}));
    const xg::Tensor a = xg::input(xt::zeros<float>({3}));
    const xg::Tensor b = xg::input(xt::zeros<float>({4}));
    CHECK_THROWS_WITH_AS(xg::where(c, a, b),
                         doctest::Contains("where: condition (2, 3), a (3,) and b (4,) do not broadcast together"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::where(xg::input(xt::zeros<float>({2})), a, a),
                         doctest::Contains("where: condition (2,), a (3,) and b (3,)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::where(xg::Tensor(), a, a), doctest::Contains("where: condition is an empty handle"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::where(c, xg::Tensor(), a), doctest::Contains("where: a is an empty handle"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::where(c, a, xg::Tensor()), doctest::Contains("where: b is an empty handle"), xg::ValueError);
}

TEST_CASE("where sends the gradient to a where the condition holds and to b elsewhere, none to the condition") {
    xg::Tensor c = xg::parameter(xg::Array{1.0f, 0.0f, 1.0f, 0.0f}, "c");
    xg::Tensor a = xg::parameter(xg::Array{1.0f, 2.0f, 3.0f, 4.0f}, "a");
    xg::Tensor b = xg::parameter(xg::scalar_array(5.0f), "b");
    // The weight is NaN where b is not taken: b's gradient there is 0, not NaN.
    const xg::Tensor w = xg::constant(xg::Array{kNaN, 10.0f, 100.0f, 1000.0f});
    xg::sum(xg::where(c, a, b) * w).backward();
    CHECK(std::isnan(a.grad()(0)));
    CHECK(a.grad()(1) == 0.0f);
    CHECK(a.grad()(2) == 100.0f);
    CHECK(a.grad()(3) == 0.0f);
    CHECK(b.grad()() == 1010.0f);  // summed back to its 0-d shape
    CHECK_FALSE(c.has_grad());
}

TEST_CASE("where passes gradcheck and gradgradcheck in a and b on equal, broadcast and scalar shapes") {
    xt::random::seed(17);
    for (const auto& [sc, sa, sb] : shape_triples) {
        CAPTURE(xg::format_shape(sc));
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        const xg::Tensor condition = xg::constant(mask(sc));
        const xg::Array a = xt::random::rand<float>(sa, -1.0f, 1.0f);
        const xg::Array b = xt::random::rand<float>(sb, -1.0f, 1.0f);
        const auto f = [condition](const std::vector<xg::Tensor>& x) { return xg::where(condition, x[0], x[1]); };
        const auto result = xg::gradcheck(f, {a, b});
        CHECK_MESSAGE(result.passed, result.report());
        xg::test::check_second_order(f, {a, b});
    }
}

TEST_CASE("where of a comparison: a function defined piecewise, differentiated twice") {
    // f(x) = x^3 where x > 0, else -x^2: f'' = 6x and -2 on each side.
    xg::Tensor x = xg::parameter(xg::Array{-2.0f, -0.5f, 0.5f, 3.0f}, "x");
    const xg::Tensor zero = xg::zeros({});
    const xg::Tensor f = xg::where(xg::greater(x, zero), x * x * x, -(x * x));
    const xg::Tensor first = xg::grad(xg::sum(f), x, {.create_graph = true});
    const xg::Tensor second = xg::grad(xg::sum(first), x);
    CHECK(first.value() == xg::Array{4.0f, 1.0f, 0.75f, 27.0f});
    CHECK(second.value() == xg::Array{-2.0f, -2.0f, 3.0f, 18.0f});
}

TEST_CASE("empty tensors go through where, forward and backward") {
    using xg::test::check_empty;
    const xg::Tensor ones_row = xg::input(xt::ones<float>({3}));
    check_empty([&](const xg::Tensor& t) { return xg::where(ones_row, t, ones_row); }, {0, 3}, {0, 3});
    // An empty condition: the result is as empty (the condition gets no gradient to check).
    CHECK(xg::where(xg::input(xt::zeros<float>({0, 3})), ones_row, ones_row).shape() == xg::Shape{0, 3});
    check_empty([&](const xg::Tensor& t) { return xg::where(ones_row, ones_row, t); }, {2, 0, 1}, {2, 0, 3});
}

TEST_CASE("where keeps the gradient finite only when the side not picked is finite itself, as PyTorch") {
    // The documented caveat and its remedy: sqrt of a negative x is NaN, and its derivative
    // times where's 0 is still NaN; where inside the sqrt keeps it away from negative values.
    xg::Tensor x = xg::parameter(xg::Array{-1.0f, 4.0f}, "x");
    const xg::Tensor zero = xg::zeros({}), one = xg::ones({});
    xg::sum(xg::where(xg::greater(x, zero), xg::sqrt(x), zero)).backward();
    CHECK(std::isnan(x.grad()(0)));
    CHECK(x.grad()(1) == 0.25f);
    x.zero_grad();
    const xg::Tensor safe = xg::sqrt(xg::where(xg::greater(x, zero), x, one));
    xg::sum(xg::where(xg::greater(x, zero), safe, zero)).backward();
    CHECK(x.grad()(0) == 0.0f);
    CHECK(x.grad()(1) == 0.25f);
}
