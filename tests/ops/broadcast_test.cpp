// Tests for lib/xgrad/ops/broadcast.cpp: broadcast_to and sum_to, each the other's gradient.
#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

}  // namespace

TEST_CASE("broadcast_to repeats, sum_to sums back") {
    const xg::Tensor x = xg::input(xg::Array{1.0f, 2.0f, 3.0f});
    const xg::Tensor b = xg::broadcast_to(x, {2, 3});
    CHECK(b.value() == xg::Array{{1.0f, 2.0f, 3.0f}, {1.0f, 2.0f, 3.0f}});
    CHECK(xg::sum_to(b, {3}).value() == xg::Array{2.0f, 4.0f, 6.0f});
    CHECK(xg::sum_to(b, {1, 3}).value() == xg::Array{{2.0f, 4.0f, 6.0f}});
    CHECK(xg::sum_to(b, {}).value()() == 12.0f);
    CHECK(xg::broadcast_to(xg::Tensor::scalar(2.0f), {2}).value() == xg::Array{2.0f, 2.0f});
}

TEST_CASE("broadcast_to and sum_to reject shapes that do not broadcast") {
    const xg::Tensor x = xg::input(xg::Array{1.0f, 2.0f, 3.0f});
    CHECK_THROWS_AS(xg::broadcast_to(x, {2, 2}), xg::ShapeError);
    CHECK_THROWS_AS(xg::broadcast_to(xg::broadcast_to(x, {2, 3}), {3}), xg::ShapeError);
    CHECK_THROWS_AS(xg::sum_to(x, {2, 3}), xg::ShapeError);
    CHECK_THROWS_AS(xg::sum_to(x, {2}), xg::ShapeError);
}

TEST_CASE("broadcast_to and sum_to pass gradcheck and gradgradcheck") {
    xt::random::seed(81);
    const std::vector<std::pair<xg::Shape, xg::Shape>> pairs = {
        {{3}, {2, 3}}, {{2, 1}, {2, 3}}, {{}, {2, 3}}, {{1, 3, 1}, {2, 3, 4}}, {{2, 3}, {2, 3}}};
    for (const auto& [small, big] : pairs) {
        CAPTURE(xg::format_shape(small));
        CAPTURE(xg::format_shape(big));
        auto up = [big](const std::vector<xg::Tensor>& x) { return xg::broadcast_to(x[0], big); };
        auto down = [small](const std::vector<xg::Tensor>& x) { return xg::sum_to(x[0], small); };
        auto r1 = xg::gradcheck(up, {uniform(small)});
        CHECK_MESSAGE(r1.passed, r1.report());
        auto r2 = xg::gradcheck(down, {uniform(big)});
        CHECK_MESSAGE(r2.passed, r2.report());
        xg::test::check_second_order(up, {uniform(small)});
        xg::test::check_second_order(down, {uniform(big)});
    }
}
