// Tests for lib/xgrad/ops/comparison.cpp: not_equal against a value, and equal, greater, greater_equal,
// less, less_equal of two tensors (broadcast, NaN false): their 1 and 0, recorded as ops of their
// inputs, and no gradient of any order through them.

#include <limits>

#include <doctest/doctest.h>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("not_equal is 1 where x differs from the value and 0 where it equals it, for any shape") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Array x = {{0.0f, 3.0f, -0.0f}, {nan, 0.5f, 0.0f}};
    CHECK(xg::not_equal(xg::input(x), 0.0f).value() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 1.0f, 0.0f}});
    CHECK(xg::not_equal(xg::input(x), 0.5f).value() == xg::Array{{1.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 1.0f}});
    CHECK(xg::not_equal(xg::Tensor::scalar(2.0f), 2.0f).value()() == 0.0f);
    CHECK(xg::not_equal(xg::input(xt::zeros<float>({0, 4})), 0.0f).shape() == xg::Shape{0, 4});
    CHECK_THROWS_WITH_AS(xg::not_equal(xg::Tensor{}, 0.0f), "not_equal: x is an empty handle; expected a tensor",
                         xg::ValueError);
}

TEST_CASE("not_equal is recorded as an op of its input, its value kept, and passes no gradient, first or second") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor x = xg::parameter(xg::Array{1.0f, 0.0f, 2.0f}, "x");
    const xg::Tensor mask = xg::not_equal(x, 0.0f);
    REQUIRE(tape.size() == 1);
    CHECK(tape[0].op == "not_equal");
    CHECK(tape[0].attributes().number("value") == 0.0f);
    // The mask scales x: d/dx sum(x * mask(x)) is the mask alone, nothing through the mask.
    xg::sum(x * mask).backward();
    CHECK(x.grad() == xg::Array{1.0f, 0.0f, 1.0f});
    // Differentiated again: x * mask(x) is linear in x where the mask holds, so the second derivative is 0.
    const xg::Tensor g = xg::grad(xg::sum(x * xg::not_equal(x, 0.0f) * x), x, {.create_graph = true});
    CHECK(g.value() == xg::Array{2.0f, 0.0f, 4.0f});
    const xg::Tensor h = xg::grad(xg::sum(g), x);
    CHECK(h.value() == xg::Array{2.0f, 0.0f, 2.0f});
    tape.clear();
}

TEST_CASE("equal, greater, greater_equal, less and less_equal compare elementwise with broadcasting, NaN false") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor a = xg::input(xg::Array{{1.0f, 2.0f, nan}, {3.0f, -0.0f, 5.0f}});
    const xg::Tensor b = xg::input(xg::Array{2.0f, 0.0f, nan});  // broadcast over a's rows
    CHECK(xg::equal(a, b).value() == xg::Array{{0.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f}});
    CHECK(xg::greater(a, b).value() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
    CHECK(xg::greater_equal(a, b).value() == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 1.0f, 0.0f}});
    CHECK(xg::less(a, b).value() == xg::Array{{1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}});
    CHECK(xg::less_equal(a, b).value() == xg::Array{{1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f}});
    // A column against a row: the outer comparison; 0-d tensors on either side.
    xg::Array two_rows = {1.0f, 2.0f};
    two_rows.reshape({2, 1});
    const xg::Tensor column = xg::input(two_rows);
    const xg::Tensor row = xg::input(xg::Array{{0.0f, 1.0f, 2.0f}});
    CHECK(xg::greater(column, row).value() == xg::Array{{1.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 0.0f}});
    CHECK(xg::less(xg::Tensor::scalar(1.0f), xg::Tensor::scalar(2.0f)).value()() == 1.0f);
    CHECK(xg::equal(a, xg::Tensor::scalar(3.0f)).value() == xg::Array{{0.0f, 0.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
    CHECK(xg::less(xg::input(xt::zeros<float>({0, 3})), b).shape() == xg::Shape{0, 3});
}

TEST_CASE("comparisons refuse shapes that do not broadcast and empty handles, naming the op") {
    const xg::Tensor a = xg::input(xt::zeros<float>({2, 3}));
    CHECK_THROWS_WITH_AS(xg::greater(a, xg::input(xt::zeros<float>({2}))), doctest::Contains("greater"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::less_equal(a, xg::input(xt::zeros<float>({4, 3}))), doctest::Contains("less_equal"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::equal(xg::Tensor{}, a), "equal: a is an empty handle; expected a tensor", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::less(a, xg::Tensor{}), "less: b is an empty handle; expected a tensor", xg::ValueError);
}

TEST_CASE("comparisons are recorded as ops of both inputs and pass no gradient, first or second") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor x = xg::parameter(xg::Array{1.0f, -2.0f, 3.0f}, "x");
    const xg::Tensor t = xg::parameter(xg::Array{0.0f, 0.0f, 5.0f}, "t");
    const xg::Tensor above = xg::greater(x, t);
    REQUIRE(tape.size() == 1);
    CHECK(tape[0].op == "greater");
    CHECK(tape[0].inputs.size() == 2);
    // x * (x > t): where it holds the derivative is 1 (2x for x * x * mask), nothing through the mask.
    xg::sum(x * above).backward();
    CHECK(x.grad() == xg::Array{1.0f, 0.0f, 0.0f});
    CHECK_THROWS_WITH(t.grad(), doctest::Contains("'t' (3,) has no gradient"));  // nothing reached t
    const xg::Tensor g = xg::grad(xg::sum(x * x * xg::less_equal(x, t)), x, {.create_graph = true});
    CHECK(g.value() == xg::Array{0.0f, -4.0f, 6.0f});
    CHECK(xg::grad(xg::sum(g), x).value() == xg::Array{0.0f, 2.0f, 2.0f});
    tape.clear();
}
