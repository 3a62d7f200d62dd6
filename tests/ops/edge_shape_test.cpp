// Shapes at the edges: element counts that overflow (extents that multiply past what memory can
// address, cheaply reachable through empty tensors, since (n, 0) costs nothing, or through
// caller-given sizes) are ShapeErrors instead of a wrapped count that allocates too little or
// passes for another size; arrays without elements move through the copying ops untouched.
#include <cstddef>

#include <doctest/doctest.h>

#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

constexpr std::size_t huge = std::size_t{1} << 40;

xg::Tensor empty_param(xg::Shape shape) { return xg::parameter(xt::zeros<float>(shape), "p"); }

}  // namespace

TEST_CASE("checked_element_count counts like element_count, and rejects products past max_array_elements") {
    CHECK(xg::checked_element_count({}, "op") == 1);
    CHECK(xg::checked_element_count({3, 4}, "op") == 12);
    CHECK(xg::checked_element_count({0, 3}, "op") == 0);
    CHECK(xg::checked_element_count({huge, 0}, "op") == 0);
    CHECK(xg::checked_element_count({xg::max_array_elements}, "op") == xg::max_array_elements);
    CHECK_THROWS_WITH_AS(xg::checked_element_count({huge, huge}, "op"),
                         doctest::Contains("op: shape (1099511627776, 1099511627776) has more elements than an array can "
                                           "hold"),
                         xg::ShapeError);
    // An empty array may not carry extents that would overflow once the 0 is reduced away.
    CHECK_THROWS_AS(xg::checked_element_count({huge, 0, huge}, "op"), xg::ShapeError);
    CHECK_THROWS_AS(xg::checked_element_count({xg::max_array_elements + 1}, "op"), xg::ShapeError);
}

TEST_CASE("reshape rejects extents whose product wraps around to the element count") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({2}), "x");
    // 3 * 6148914691236517206 = 2 (mod 2^64).
    CHECK_THROWS_WITH_AS(xg::reshape(x, {3, 6148914691236517206L}), doctest::Contains("reshape: shape (3, "),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::reshape(x, {-1, 1L << 62, 1L << 62}), xg::ShapeError);
    CHECK(xg::reshape(x, {2, -1}).shape() == xg::Shape{2, 1});
    CHECK(xg::reshape(empty_param({0, 3}), {-1, 0}).shape() == xg::Shape{0, 0});
}

TEST_CASE("ops whose output would be too large to address throw ShapeError instead of allocating a wrapped size") {
    // (2^40, 0) . (0, 2^40): both inputs are empty, the output would hold 2^80 elements.
    CHECK_THROWS_AS(xg::matmul(empty_param({huge, 0}), empty_param({0, huge})), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::add(empty_param({huge, 0, 1}), empty_param({1, 0, huge})), doctest::Contains("add: shape ("),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::one_hot(xg::input(xg::Array{0.0f}), std::size_t{1} << 62), doctest::Contains("one_hot: shape"),
                         xg::ShapeError);
    CHECK(xg::matmul(empty_param({3, 0}), empty_param({0, 4})).shape() == xg::Shape{3, 4});
}

TEST_CASE("rows without elements are sliced, joined and gathered, forward and backward") {
    // Their data() may be null: the copies must not hand it to memcpy (UBSan checks this).
    const xg::Tensor x = empty_param({3, 0});
    CHECK(xg::slice(x, 0, 1, 3).shape() == xg::Shape{2, 0});
    CHECK(xg::concat({x, empty_param({2, 0})}, 0).shape() == xg::Shape{5, 0});
    const xg::Tensor g = xg::gather_rows(x, {2, 0, 2});
    CHECK(g.shape() == xg::Shape{3, 0});
    xg::Tensor loss = xg::sum(xg::concat({xg::slice(x, 0, 0, 2), g}, 0));
    loss.backward();
    CHECK(x.grad().shape() == xg::Shape{3, 0});
}
