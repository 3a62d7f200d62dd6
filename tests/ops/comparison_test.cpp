// Tests for lib/xgrad/ops/comparison.cpp: not_equal's 1 and 0 (NaN included), recorded as an op
// of its input with its value, and no gradient of any order through it.
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
