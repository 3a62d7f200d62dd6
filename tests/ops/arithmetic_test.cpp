// Tests for lib/xgrad/ops/arithmetic.cpp: add, sub, mul, div, neg, maximum, minimum and the operators.
#include <cmath>
#include <limits>
#include <utility>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "random_inputs.hpp"
#include "scalar_path.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using Binary = xg::Tensor (*)(const xg::Tensor&, const xg::Tensor&);

using xg::test::uniform;

// Every shape pair the binary ops must handle, gradients included.
const std::vector<std::pair<xg::Shape, xg::Shape>> shape_pairs = {
    {{3, 4}, {3, 4}},  {{3, 4}, {4}},    {{4}, {3, 4}},       {{3, 1}, {1, 4}},    {{3, 1}, {3, 4}},
    {{}, {3, 4}},      {{3, 4}, {}},     {{}, {}},            {{2, 3, 4}, {3, 1}}, {{2, 1, 4}, {3, 4}},
};

void check_binary(const char* name, Binary op) {
    xt::random::seed(11);
    for (const auto& [sa, sb] : shape_pairs) {
        CAPTURE(name);
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        // Operands of either sign but away from 0, so that div is smooth.
        xg::Array a = uniform(sa, 0.5f, 1.5f) * xt::where(uniform(sa, 0.0f, 1.0f) < 0.5f, -1.0f, 1.0f);
        xg::Array b = uniform(sb, 0.5f, 1.5f) * xt::where(uniform(sb, 0.0f, 1.0f) < 0.5f, -1.0f, 1.0f);
        const auto result = xg::gradcheck([op](const std::vector<xg::Tensor>& x) { return op(x[0], x[1]); }, {a, b});
        CHECK_MESSAGE(result.passed, result.report());
    }
}

// Values on a grid of 0.2 (a) and the grid shifted by 0.1 (b): a and b are never closer than
// 0.1, so maximum and minimum are smooth at every point finite differences look at.
std::pair<xg::Array, xg::Array> apart(const xg::Shape& sa, const xg::Shape& sb) {
    xg::Array a = xt::cast<float>(xt::random::randint<int>(sa, -8, 8)) * 0.2f;
    xg::Array b = xt::cast<float>(xt::random::randint<int>(sb, -8, 8)) * 0.2f + 0.1f;
    return {a, b};
}

}  // namespace

TEST_CASE("add, sub, mul and div compute elementwise with numpy broadcasting") {
    const xg::Tensor a = xg::input(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    const xg::Tensor row = xg::input(xg::Array{10.0f, 20.0f, 30.0f});
    xg::Array column_values = {2.0f, 4.0f};
    column_values.reshape({2, 1});
    const xg::Tensor column = xg::input(column_values);

    CHECK((a + row).value() == xg::Array{{11.0f, 22.0f, 33.0f}, {14.0f, 25.0f, 36.0f}});
    CHECK((row - a).value() == xg::Array{{9.0f, 18.0f, 27.0f}, {6.0f, 15.0f, 24.0f}});
    CHECK((a * column).value() == xg::Array{{2.0f, 4.0f, 6.0f}, {16.0f, 20.0f, 24.0f}});
    CHECK((a / column).value() == xg::Array{{0.5f, 1.0f, 1.5f}, {1.0f, 1.25f, 1.5f}});
    CHECK((column * row).value() == xg::Array{{20.0f, 40.0f, 60.0f}, {40.0f, 80.0f, 120.0f}});
    CHECK((-a).value() == xg::Array{{-1.0f, -2.0f, -3.0f}, {-4.0f, -5.0f, -6.0f}});
    CHECK(xg::add(a, row).value() == (a + row).value());
    CHECK(xg::neg(a).value() == (-a).value());
}

TEST_CASE("the float operators act as a 0-d constant on either side") {
    const xg::Tensor a = xg::input(xg::Array{1.0f, 2.0f, 4.0f});
    CHECK((a + 1.0f).value() == xg::Array{2.0f, 3.0f, 5.0f});
    CHECK((1.0f + a).value() == xg::Array{2.0f, 3.0f, 5.0f});
    CHECK((a - 1.0f).value() == xg::Array{0.0f, 1.0f, 3.0f});
    CHECK((1.0f - a).value() == xg::Array{0.0f, -1.0f, -3.0f});
    CHECK((a * 2.0f).value() == xg::Array{2.0f, 4.0f, 8.0f});
    CHECK((2.0f * a).value() == xg::Array{2.0f, 4.0f, 8.0f});
    CHECK((a / 2.0f).value() == xg::Array{0.5f, 1.0f, 2.0f});
    CHECK((2.0f / a).value() == xg::Array{2.0f, 1.0f, 0.5f});

    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f, 4.0f}, "w");
    xg::sum(2.0f / w - w * 3.0f + 1.0f).backward();
    // d/dw (2/w - 3w) = -2/w^2 - 3
    CHECK(w.grad() == xg::Array{-5.0f, -3.5f, -3.125f});
}

TEST_CASE("add passes gradcheck on equal, broadcast and scalar shapes") { check_binary("add", xg::add); }
TEST_CASE("sub passes gradcheck on equal, broadcast and scalar shapes") { check_binary("sub", xg::sub); }
TEST_CASE("mul passes gradcheck on equal, broadcast and scalar shapes") { check_binary("mul", xg::mul); }
TEST_CASE("div passes gradcheck on equal, broadcast and scalar shapes") { check_binary("div", xg::div); }

TEST_CASE("neg and the float operators pass gradcheck") {
    xt::random::seed(12);
    const xg::Array x = uniform({3, 4}, 0.5f, 1.5f);
    const auto result = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) { return (-in[0] + 1.0f) * 2.0f - 3.0f / in[0] + 0.5f - in[0] / 4.0f; },
        {x});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("broadcast gradients are summed back to each operand's shape") {
    const xg::Tensor a = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "a");
    const xg::Tensor b = xg::parameter(xg::Array{1.0f, 10.0f, 100.0f}, "b");
    const xg::Tensor s = xg::Tensor::scalar(2.0f, true);
    xg::sum(a * b * s).backward();
    CHECK(b.grad().shape() == xg::Shape{3});
    CHECK(b.grad() == xg::Array{10.0f, 14.0f, 18.0f});
    CHECK(s.grad().shape() == xg::Shape{});
    CHECK(s.grad()() == 1.0f * 1 + 2 * 10 + 3 * 100 + 4 * 1 + 5 * 10 + 6 * 100);
    CHECK(a.grad() == xg::Array{{2.0f, 20.0f, 200.0f}, {2.0f, 20.0f, 200.0f}});
}

TEST_CASE("shapes that do not broadcast are a ShapeError naming the op and both shapes") {
    const xg::Tensor a = xg::input(xt::zeros<float>({3, 4}));
    const xg::Tensor b = xg::input(xt::zeros<float>({3}));
    CHECK_THROWS_WITH_AS(a + b, doctest::Contains("add: shapes (3, 4) and (3,) do not broadcast"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(a - b, doctest::Contains("sub: shapes (3, 4) and (3,)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(a * b, doctest::Contains("mul: shapes (3, 4) and (3,)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(a / b, doctest::Contains("div: shapes (3, 4) and (3,)"), xg::ShapeError);
}

TEST_CASE("empty tensors go through every arithmetic op, forward and backward") {
    using xg::test::check_empty;
    const xg::Shape e{0, 3};
    xg::Tensor row = xg::parameter(xt::ones<float>({3}), "row");
    for (const Binary op : {Binary(xg::add), Binary(xg::sub), Binary(xg::mul), Binary(xg::div)}) {
        check_empty([&](const xg::Tensor& t) { return op(t, row); }, e, e);
        // Broadcast over no rows: the gradient is the sum of nothing.
        CHECK(row.grad() == xt::zeros<float>({3}));
        row.zero_grad();
        check_empty([&](const xg::Tensor& t) { return op(row, t); }, {2, 0, 1}, {2, 0, 3});
        check_empty([&](const xg::Tensor& t) { return op(t, t); }, e, e);
        row.zero_grad();
    }
    check_empty([](const xg::Tensor& t) { return xg::neg(t); }, e, e);
    check_empty([](const xg::Tensor& t) { return t * 2.0f + 1.0f; }, e, e);
    CHECK_THROWS_WITH_AS(xg::input(xt::zeros<float>(e)) + xg::input(xt::zeros<float>({2})),
                         doctest::Contains("add: shapes (0, 3) and (2,) do not broadcast"), xg::ShapeError);
}

TEST_CASE("a broadcast too large to address is a ShapeError, even between empty tensors") {
    // (2^40, 0, 1) + (1, 0, 2^40) holds nothing, but its extents multiply past any memory.
    constexpr std::size_t huge = std::size_t{1} << 40;
    const xg::Tensor a = xg::parameter(xt::zeros<float>(xg::Shape{huge, 0, 1}), "a");
    const xg::Tensor b = xg::parameter(xt::zeros<float>(xg::Shape{1, 0, huge}), "b");
    CHECK_THROWS_WITH_AS(xg::add(a, b),
                         doctest::Contains("add: shape (1099511627776, 0, 1099511627776) has more elements"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::mul(a, b), xg::ShapeError);
}

TEST_CASE("add, sub, mul and div on two 0-d scalars take the scalar path and match the array path") {
    using xg::test::check_scalar_binary;
    for (const auto& [a, b] : {std::pair{1.3f, -0.7f}, std::pair{-2.5f, 0.4f}, std::pair{0.8f, 1.9f}}) {
        check_scalar_binary("add", xg::add, a, b);
        check_scalar_binary("sub", xg::sub, a, b);
        check_scalar_binary("mul", xg::mul, a, b);
        check_scalar_binary("div", xg::div, a, b);
    }
}

TEST_CASE("neg on a 0-d scalar takes the scalar path and matches the array path") {
    xg::test::check_scalar_unary("neg", [](const xg::Tensor& t) { return xg::neg(t); }, 1.3f);
    xg::test::check_scalar_unary("neg", [](const xg::Tensor& t) { return -t; }, -0.6f);
}

TEST_CASE("the float operators keep a 0-d scalar on the scalar path") {
    xg::Tape::current().clear();
    const xg::Tensor x = xg::Tensor::scalar(2.0f, true);
    // y = (3 - x * 2) / 4 + 1 / x;  dy/dx = -1/2 - 1/x^2
    const xg::Tensor y = (3.0f - x * 2.0f) / 4.0f + 1.0f / x;
    CHECK(y.node()->is_scalar());
    for (const xg::Record& r : xg::Tape::current().records()) {
        CAPTURE(r.op);
        CHECK((r.scalar_rule != nullptr));
    }
    CHECK(xg::Tape::current().size() == 5);
    CHECK(y.item() == doctest::Approx(-0.25f + 0.5f));
    y.backward();
    CHECK(x.node()->grad_item() == doctest::Approx(-0.75f));
}

TEST_CASE("a 0-d scalar used for both operands gets the sum of both gradients on the scalar path") {
    const float v = 1.5f;
    const auto grad_of = [v](const xg::test::BinaryOp& op) {
        const xg::Tensor x = xg::Tensor::scalar(v, true);
        const xg::Tensor y = op(x, x);
        CHECK((y.creator()->scalar_rule != nullptr));
        y.backward();
        return x.node()->grad_item();
    };
    CHECK(grad_of(xg::add) == 2.0f);
    CHECK(grad_of(xg::sub) == 0.0f);
    CHECK(grad_of(xg::mul) == 2.0f * v);
    CHECK(grad_of(xg::div) == doctest::Approx(0.0f));
}

TEST_CASE("a 0-d scalar with a (2, 3) array takes the array path and gets the summed gradient") {
    using xg::test::check_scalar_with_array;
    const xg::Array m = {{0.5f, -1.2f, 0.9f}, {1.4f, -0.6f, 0.7f}};
    check_scalar_with_array("add", xg::add, 0.8f, m);
    check_scalar_with_array("sub", xg::sub, 0.8f, m);
    check_scalar_with_array("mul", xg::mul, -1.3f, m);
    check_scalar_with_array("div", xg::div, 1.1f, m);
}

TEST_CASE("a scalar-path result feeding an array op gets its gradient summed back, then runs its rule") {
    xg::Tape::current().clear();
    const xg::Tensor a = xg::Tensor::scalar(1.5f, true);
    const xg::Tensor b = xg::Tensor::scalar(-2.0f, true);
    const xg::Tensor m = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "m");
    const xg::Tensor h = a * b;  // scalar path
    REQUIRE((h.creator()->scalar_rule != nullptr));
    const xg::Tensor y = xg::sum(h * m);  // array path, broadcast
    y.backward();
    // y = a b sum(m): dy/da = b * 21, dy/db = a * 21, dy/dm = a b
    CHECK(a.node()->grad_item() == doctest::Approx(-42.0f));
    CHECK(b.node()->grad_item() == doctest::Approx(31.5f));
    CHECK(m.grad() == xg::Array(xg::Shape{2, 3}, -3.0f));
}

TEST_CASE("add, sub, mul and div pass gradgradcheck on equal, broadcast and scalar shapes") {
    xt::random::seed(12);
    for (const auto& [name, op] : std::vector<std::pair<const char*, Binary>>{
             {"add", xg::add}, {"sub", xg::sub}, {"mul", xg::mul}, {"div", xg::div}}) {
        for (const auto& [sa, sb] : shape_pairs) {
            CAPTURE(name);
            xg::Array a = uniform(sa, 0.5f, 1.5f) * xt::where(uniform(sa, 0.0f, 1.0f) < 0.5f, -1.0f, 1.0f);
            xg::Array b = uniform(sb, 0.5f, 1.5f) * xt::where(uniform(sb, 0.0f, 1.0f) < 0.5f, -1.0f, 1.0f);
            xg::test::check_second_order([op](const std::vector<xg::Tensor>& x) { return op(x[0], x[1]); }, {a, b});
        }
    }
}

TEST_CASE("neg passes gradgradcheck") {
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return -x[0]; },
                                 {xg::Array{{0.5f, -1.0f}, {2.0f, 0.25f}}});
}

TEST_CASE("maximum and minimum pick elementwise with numpy broadcasting, NaN winning") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor a = xg::input(xg::Array{{1.0f, -2.0f, 3.0f}, {nan, 5.0f, -6.0f}});
    const xg::Tensor row = xg::input(xg::Array{0.0f, 0.0f, nan});
    const xg::Array high = xg::maximum(a, row).value();
    const xg::Array low = xg::minimum(row, a).value();
    CHECK(high(0, 0) == 1.0f);
    CHECK(high(0, 1) == 0.0f);
    CHECK(low(0, 0) == 0.0f);
    CHECK(low(0, 1) == -2.0f);
    CHECK(high(1, 1) == 5.0f);
    CHECK(low(1, 1) == 0.0f);
    // A NaN on either side, as numpy.maximum and torch.maximum.
    for (const auto& [i, j] : {std::pair{0, 2}, std::pair{1, 0}, std::pair{1, 2}}) {
        CHECK(std::isnan(high(i, j)));
        CHECK(std::isnan(low(i, j)));
    }
    CHECK(xg::maximum(a, xg::Tensor::scalar(2.0f)).value()(0, 0) == 2.0f);
    CHECK(xg::minimum(xg::Tensor::scalar(2.0f), xg::Tensor::scalar(-1.0f)).item() == -1.0f);
    CHECK_THROWS_WITH_AS(xg::maximum(a, xg::input(xt::zeros<float>({2}))),
                         doctest::Contains("maximum: shapes (2, 3) and (2,) do not broadcast"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::minimum(a, xg::input(xt::zeros<float>({4, 1, 2}))),
                         doctest::Contains("minimum: shapes (2, 3) and (4, 1, 2)"), xg::ShapeError);
}

TEST_CASE("maximum and minimum send the gradient to the winner, half to each at a tie") {
    xg::Tensor a = xg::parameter(xg::Array{1.0f, 2.0f, 3.0f}, "a");
    xg::Tensor b = xg::parameter(xg::Array{2.0f, 2.0f, 2.0f}, "b");
    xg::sum(xg::maximum(a, b) * xg::constant(xg::Array{1.0f, 10.0f, 100.0f})).backward();
    CHECK(a.grad() == xg::Array{0.0f, 5.0f, 100.0f});
    CHECK(b.grad() == xg::Array{1.0f, 5.0f, 0.0f});
    a.zero_grad();
    b.zero_grad();
    xg::sum(xg::minimum(a, b) * xg::constant(xg::Array{1.0f, 10.0f, 100.0f})).backward();
    CHECK(a.grad() == xg::Array{1.0f, 5.0f, 0.0f});
    CHECK(b.grad() == xg::Array{0.0f, 5.0f, 100.0f});

    // Where either is NaN, both get all of the gradient, as in PyTorch.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    xg::Tensor p = xg::parameter(xg::Array{nan, 1.0f, 3.0f}, "p");
    xg::Tensor q = xg::parameter(xg::Array{0.0f, nan, 2.0f}, "q");
    xg::sum(xg::maximum(p, q) + xg::minimum(p, q)).backward();
    CHECK(p.grad() == xg::Array{2.0f, 2.0f, 1.0f});
    CHECK(q.grad() == xg::Array{2.0f, 2.0f, 1.0f});

    // A broadcast operand gets its shares summed: relu written as maximum(x, 0).
    const xg::Tensor x = xg::parameter(xg::Array{-1.0f, 0.0f, 2.0f}, "x");
    const xg::Tensor zero = xg::parameter(xg::scalar_array(0.0f), "zero");
    xg::sum(xg::maximum(x, zero)).backward();
    CHECK(x.grad() == xg::Array{0.0f, 0.5f, 1.0f});
    CHECK(zero.grad()() == 1.5f);
}

TEST_CASE("maximum and minimum pass gradcheck and gradgradcheck on equal, broadcast and scalar shapes") {
    xt::random::seed(13);
    for (const auto& [name, op] : std::vector<std::pair<const char*, Binary>>{{"maximum", xg::maximum},
                                                                              {"minimum", xg::minimum}}) {
        for (const auto& [sa, sb] : shape_pairs) {
            CAPTURE(name);
            CAPTURE(xg::format_shape(sa));
            CAPTURE(xg::format_shape(sb));
            const auto [a, b] = apart(sa, sb);
            const auto f = [op](const std::vector<xg::Tensor>& x) { return op(x[0], x[1]); };
            const auto result = xg::gradcheck(f, {a, b});
            CHECK_MESSAGE(result.passed, result.report());
            xg::test::check_second_order(f, {a, b});
        }
    }
}

TEST_CASE("maximum and minimum on 0-d scalars take the scalar path and match the array path") {
    using xg::test::check_scalar_binary;
    for (const auto& [a, b] : {std::pair{1.3f, -0.7f}, std::pair{-2.5f, 0.4f}}) {
        check_scalar_binary("maximum", xg::maximum, a, b);
        check_scalar_binary("minimum", xg::minimum, a, b);
    }
    const xg::Array m = {{0.5f, -1.2f, 0.9f}, {1.4f, -0.6f, 0.7f}};
    xg::test::check_scalar_with_array("maximum", xg::maximum, 0.8f, m);
    xg::test::check_scalar_with_array("minimum", xg::minimum, -0.1f, m);
    // A tie between two inline scalars splits the gradient on the scalar path too.
    const xg::Tensor s = xg::Tensor::scalar(1.5f, true), t = xg::Tensor::scalar(1.5f, true);
    xg::maximum(s, t).backward();
    CHECK(s.node()->grad_item() == 0.5f);
    CHECK(t.node()->grad_item() == 0.5f);
}

TEST_CASE("maximum and minimum of empty tensors are empty, forward and backward") {
    using xg::test::check_empty;
    const xg::Tensor row = xg::parameter(xt::ones<float>({3}), "row");
    check_empty([&](const xg::Tensor& t) { return xg::maximum(t, row); }, {0, 3}, {0, 3});
    check_empty([&](const xg::Tensor& t) { return xg::minimum(row, t); }, {0, 3}, {0, 3});
    CHECK(row.grad() == xt::zeros<float>({3}));
}

TEST_CASE("pow with a tensor of exponents: values with numpy broadcasting, and its gradients by hand") {
    const xg::Tensor x = xg::parameter(xg::Array{{2.0f, 3.0f, 0.5f}, {4.0f, 1.5f, 9.0f}}, "x");
    const xg::Tensor p = xg::parameter(xg::Array{2.0f, -1.0f, 0.5f}, "p");
    const xg::Tensor y = xg::pow(x, p);
    CHECK(y.creator()->op == "power");
    CHECK(xt::allclose(y.value(), xg::Array{{4.0f, 1.0f / 3.0f, std::sqrt(0.5f)}, {16.0f, 1.0f / 1.5f, 3.0f}}));
    xg::sum(y).backward();
    // dy/dx = p x^(p-1); dy/dp = x^p ln x, summed over the rows p was broadcast along.
    CHECK(xt::allclose(x.grad(), xg::Array{{4.0f, -1.0f / 9.0f, 0.5f / std::sqrt(0.5f)},
                                           {8.0f, -1.0f / (1.5f * 1.5f), 0.5f / 3.0f}}));
    CHECK(xt::allclose(p.grad(), xg::Array{4.0f * std::log(2.0f) + 16.0f * std::log(4.0f),
                                           std::log(3.0f) / 3.0f + std::log(1.5f) / 1.5f,
                                           std::sqrt(0.5f) * std::log(0.5f) + 3.0f * std::log(9.0f)}));
    // A negative base is fine with a whole exponent and NaN with any other, as std::pow.
    CHECK(xg::pow(xg::Tensor(xg::Array{-2.0f}), xg::Tensor(xg::Array{3.0f})).value()(0) == -8.0f);
    CHECK(std::isnan(xg::pow(xg::Tensor(xg::Array{-2.0f}), xg::Tensor(xg::Array{0.5f})).value()(0)));
    // Shapes that do not broadcast name the op.
    CHECK_THROWS_WITH_AS(xg::pow(xg::Tensor(xg::Array{1.0f, 2.0f}), xg::Tensor(xg::Array{1.0f, 2.0f, 3.0f})),
                         doctest::Contains("power"), xg::ShapeError);
}

TEST_CASE("pow with a tensor of exponents takes x^0 and 0^p for p >= 0 as flat, as PyTorch does") {
    // x^0 is 1 for every x: no gradient for x there, even at x = 0 (where p x^(p-1) is 0 * inf);
    // 0^p for p >= 0 gets no gradient for p (x^p ln x is 0 * -inf there).
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 0.0f, 0.0f, 2.0f}, "x");
    const xg::Tensor p = xg::parameter(xg::Array{0.0f, 2.0f, 0.5f, 0.0f}, "p");
    const xg::Tensor y = xg::pow(x, p);
    CHECK(y.value() == xg::Array{1.0f, 0.0f, 0.0f, 1.0f});
    xg::sum(y).backward();
    CHECK(x.grad() == xg::Array{0.0f, 0.0f, std::numeric_limits<float>::infinity(), 0.0f});
    CHECK(p.grad() == xg::Array{0.0f, 0.0f, 0.0f, std::log(2.0f)});
    // The differentiable rules give the same first derivatives, and finite second ones there.
    const xg::Tensor u = xg::parameter(xg::Array{0.0f, 0.0f, 2.0f}, "u");
    const xg::Tensor q = xg::parameter(xg::Array{0.0f, 2.0f, 0.0f}, "q");
    const std::vector<xg::Tensor> first = xg::grad({xg::sum(xg::pow(u, q))}, {u, q}, {.create_graph = true});
    CHECK(first[0].value() == xg::Array{0.0f, 0.0f, 0.0f});
    CHECK(first[1].value() == xg::Array{0.0f, 0.0f, std::log(2.0f)});
    const std::vector<xg::Tensor> second = xg::grad({xg::sum(first[0]) + xg::sum(first[1])}, {u, q});
    CHECK(xt::all(xt::isfinite(second[0].value())));
    CHECK(xt::all(xt::isfinite(second[1].value())));
}

TEST_CASE("pow with a tensor of exponents passes gradcheck and gradgradcheck on equal, broadcast and scalar shapes") {
    xt::random::seed(14);
    const auto f = [](const std::vector<xg::Tensor>& in) { return xg::pow(in[0], in[1]); };
    for (const auto& [sa, sb] : shape_pairs) {
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        // Positive bases (a real power for any exponent), exponents of either sign.
        const xg::Array a = uniform(sa, 0.5f, 2.0f);
        const xg::Array b = uniform(sb, -1.5f, 2.5f);
        const auto result = xg::gradcheck(f, {a, b});
        CHECK_MESSAGE(result.passed, result.report());
        xg::test::check_second_order(f, {a, b});
    }
}

TEST_CASE("pow with a tensor of exponents takes the scalar path on 0-d scalars and handles empty tensors") {
    const auto power = [](const xg::Tensor& a, const xg::Tensor& b) { return xg::pow(a, b); };
    for (const auto& [a, b] : {std::pair{1.3f, -0.7f}, std::pair{2.5f, 0.4f}, std::pair{0.8f, 1.9f}}) {
        xg::test::check_scalar_binary("power", power, a, b);
    }
    xg::test::check_scalar_with_array("power", power, 1.5f, xg::Array{{0.5f, 1.2f, 0.9f}, {1.4f, 0.6f, 0.7f}});
    const xg::Tensor row = xg::parameter(xt::ones<float>({3}), "row");
    xg::test::check_empty([&](const xg::Tensor& t) { return xg::pow(t, row); }, {0, 3}, {0, 3});
    CHECK(row.grad() == xt::zeros<float>({3}));
}
