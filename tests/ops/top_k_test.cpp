// Tests for lib/xgrad/ops/top_k.cpp: top_k's values, indices and gradients.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

constexpr float kNaNScore = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("top_k picks the k largest or smallest along the last axis, ties to the lower index") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 5.0f, 3.0f, 5.0f, -2.0f}, {0.0f, 0.0f, 0.0f, 4.0f, 1.0f}});
    const xg::TopK largest = xg::top_k(x, 3);
    CHECK(largest.values.value() == xg::Array{{5.0f, 5.0f, 3.0f}, {4.0f, 1.0f, 0.0f}});
    CHECK(largest.indices.value() == xg::Array{{1.0f, 3.0f, 2.0f}, {3.0f, 4.0f, 0.0f}});
    const xg::TopK smallest = xg::top_k(x, 2, -1, false);
    CHECK(smallest.values.value() == xg::Array{{-2.0f, 1.0f}, {0.0f, 0.0f}});
    CHECK(smallest.indices.value() == xg::Array{{4.0f, 0.0f}, {0.0f, 1.0f}});
    // All of the axis is a sort; none of it is an empty result with the other axes kept.
    CHECK(xg::top_k(x, 5).indices.value() == xg::Array{{1.0f, 3.0f, 2.0f, 0.0f, 4.0f}, {3.0f, 4.0f, 0.0f, 1.0f, 2.0f}});
    CHECK(xg::top_k(x, 0).values.shape() == xg::Shape{2, 0});
    CHECK(xg::top_k(xg::input(xt::zeros<float>({0, 4})), 2).values.shape() == xg::Shape{0, 2});
}

TEST_CASE("top_k counts NaN as larger than any number, as PyTorch") {
    const xg::Tensor x = xg::input(xg::Array{2.0f, kNaNScore, 7.0f, kNaNScore, -1.0f});
    const xg::TopK largest = xg::top_k(x, 3);
    CHECK(largest.indices.value() == xg::Array{1.0f, 3.0f, 2.0f});
    CHECK(std::isnan(largest.values.value()(0)));
    CHECK(largest.values.value()(2) == 7.0f);
    CHECK(xg::top_k(x, 3, 0, false).indices.value() == xg::Array{4.0f, 0.0f, 2.0f});
}

TEST_CASE("top_k along any axis of a rank-3 tensor matches a stable sort of each line") {
    xt::random::seed(21);
    // Whole numbers from a small range: many ties, which must go to the lower index.
    const xg::Array cube = xt::cast<float>(xt::random::randint<int>({4, 5, 6}, 0, 4));
    for (long axis : {0L, 1L, 2L, -2L}) {
        for (const bool largest : {true, false}) {
            CAPTURE(axis);
            CAPTURE(largest);
            const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
            const std::size_t n = cube.shape()[ax];
            const long k = static_cast<long>(n) - 1;
            const xg::TopK got = xg::top_k(xg::input(cube), k, axis, largest);
            xg::Shape want_shape = cube.shape();
            want_shape[ax] = static_cast<std::size_t>(k);
            REQUIRE(got.values.shape() == want_shape);
            // Each line of the cube along ax, sorted stably by value.
            std::vector<std::size_t> at(3);
            bool same = true;
            for (at[0] = 0; at[0] < (ax == 0 ? 1 : 4); ++at[0]) {
                for (at[1] = 0; at[1] < (ax == 1 ? 1 : 5); ++at[1]) {
                    for (at[2] = 0; at[2] < (ax == 2 ? 1 : 6); ++at[2]) {
                        std::vector<std::size_t> order(n);
                        std::iota(order.begin(), order.end(), std::size_t{0});
                        auto value = [&](std::size_t j) {
                            std::vector<std::size_t> p = at;
                            p[ax] = j;
                            return cube(p[0], p[1], p[2]);
                        };
                        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                            return largest ? value(a) > value(b) : value(a) < value(b);
                        });
                        for (std::size_t r = 0; r < static_cast<std::size_t>(k); ++r) {
                            std::vector<std::size_t> q = at;
                            q[ax] = r;
                            same = same && got.indices.value()(q[0], q[1], q[2]) == static_cast<float>(order[r]) &&
                                   got.values.value()(q[0], q[1], q[2]) == value(order[r]);
                        }
                    }
                }
            }
            CHECK(same);
        }
    }
}

TEST_CASE("top_k's values send the gradient to the elements picked; the indices pass none") {
    const xg::Tensor x = xg::parameter(xg::Array{{1.0f, 5.0f, 3.0f}, {6.0f, 2.0f, 4.0f}}, "x");
    const xg::TopK top = xg::top_k(x, 2, 1);
    CHECK(top.values.creator()->op == "top_k");
    CHECK(top.values.creator()->attributes().to_string() == "k=2, axis=1, largest");
    CHECK(top.indices.creator()->op == "top_k_indices");
    // Weighted by rank, and times the indices, which are constant factors.
    xg::sum(top.values * xg::Tensor(xg::Array{10.0f, 1.0f}) + top.indices * top.values).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 11.0f, 1.0f + 2.0f}, {10.0f, 0.0f, 1.0f + 2.0f}});
}

TEST_CASE("top_k passes gradcheck and gradgradcheck along each axis, largest and smallest") {
    xt::random::seed(22);
    // Distinct values, so that a small step never changes which are picked.
    xg::Array x = xt::arange<float>(0.0f, 24.0f) * 0.37f;
    std::shuffle(x.begin(), x.end(), std::mt19937(5));
    x.reshape({2, 3, 4});
    for (long axis : {0L, 1L, 2L}) {
        for (const bool largest : {true, false}) {
            CAPTURE(axis);
            CAPTURE(largest);
            const auto f = [axis, largest](const std::vector<xg::Tensor>& in) {
                return xg::top_k(in[0], 2, axis, largest).values;
            };
            const auto result = xg::gradcheck(f, {x});
            CHECK_MESSAGE(result.passed, result.report());
            xg::test::check_second_order(f, {x});
        }
    }
}

TEST_CASE("top_k refuses k past the axis, a scalar, an axis out of range and an empty handle, naming the op") {
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 3}));
    CHECK_THROWS_WITH_AS(xg::top_k(x, 4), doctest::Contains("top_k: k = 4 for axis 1 of (2, 3), which holds 3; expected 0 to 3"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::top_k(x, -1, 0), doctest::Contains("top_k: k = -1 for axis 0 of (2, 3), which holds 2; expected 0 to 2"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::top_k(xg::input(xg::scalar_array(1.0f)), 1),
                         "top_k: x is a scalar; expected at least one axis", xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::top_k(x, 1, 2), doctest::Contains("top_k: axis 2 is out of range"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::top_k(xg::Tensor{}, 1), "top_k: x is an empty handle; expected a tensor", xg::ValueError);
}
