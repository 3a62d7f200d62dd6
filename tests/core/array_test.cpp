#include "xgrad/core/array.hpp"

#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("format_batch_shape prints a sample's shape behind Keras's batch axis") {
    CHECK(xg::format_batch_shape({}) == "(None,)");
    CHECK(xg::format_batch_shape({784}) == "(None, 784)");
    CHECK(xg::format_batch_shape({26, 26, 32}) == "(None, 26, 26, 32)");
}

TEST_CASE("format_shape prints shapes the way error messages use them") {
    CHECK(xg::format_shape({}) == "()");
    CHECK(xg::format_shape({3}) == "(3,)");
    CHECK(xg::format_shape({128, 784}) == "(128, 784)");
    CHECK(xg::format_shape({2, 0, 5}) == "(2, 0, 5)");
}

TEST_CASE("element_count multiplies the extents") {
    CHECK(xg::element_count({}) == 1);
    CHECK(xg::element_count({7}) == 7);
    CHECK(xg::element_count({2, 3, 4}) == 24);
    CHECK(xg::element_count({2, 0, 4}) == 0);
}

TEST_CASE("broadcast_shapes follows numpy") {
    CHECK(xg::broadcast_shapes({3, 4}, {3, 4}, "add") == xg::Shape{3, 4});
    CHECK(xg::broadcast_shapes({3, 4}, {4}, "add") == xg::Shape{3, 4});
    CHECK(xg::broadcast_shapes({4}, {3, 4}, "add") == xg::Shape{3, 4});
    CHECK(xg::broadcast_shapes({3, 1}, {1, 4}, "mul") == xg::Shape{3, 4});
    CHECK(xg::broadcast_shapes({}, {2, 3}, "mul") == xg::Shape{2, 3});
    CHECK(xg::broadcast_shapes({2, 1, 4}, {3, 1}, "add") == xg::Shape{2, 3, 4});
    CHECK(xg::broadcast_shapes({}, {}, "add") == xg::Shape{});
}

TEST_CASE("broadcast_shapes names the op and both shapes when they do not broadcast") {
    CHECK_THROWS_WITH_AS(xg::broadcast_shapes({3, 4}, {3}, "add"),
                         doctest::Contains("add: shapes (3, 4) and (3,) do not broadcast"), xg::ShapeError);
    CHECK_THROWS_AS(xg::broadcast_shapes({2, 3}, {3, 2}, "mul"), xg::ShapeError);
}

TEST_CASE("sum_axis keeps the summed axis as extent 1") {
    const xg::Array a = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
    CHECK(xg::sum_axis(a, 0) == xg::Array{{5.0f, 7.0f, 9.0f}});
    xg::Array row_sums = {6.0f, 15.0f};
    row_sums.reshape({2, 1});
    CHECK(xg::sum_axis(a, 1) == row_sums);
    const xg::Array b = xt::arange<float>(24.0f).reshape({2, 3, 4});
    const xg::Array middle = xg::sum_axis(b, 1);
    CHECK(middle.shape() == xg::Shape{2, 1, 4});
    // (0 + 4 + 8) and (12 + 16 + 20) start each block
    CHECK(middle(0, 0, 0) == 12.0f);
    CHECK(middle(1, 0, 0) == 48.0f);
}

TEST_CASE("sum_to undoes broadcasting") {
    const xg::Array g = xt::arange<float>(1.0f, 13.0f).reshape({3, 4});

    SUBCASE("same shape is returned unchanged") { CHECK(xg::sum_to(g, {3, 4}) == g); }
    SUBCASE("a leading axis is summed away") {
        CHECK(xg::sum_to(g, {4}) == xg::Array{15.0f, 18.0f, 21.0f, 24.0f});
    }
    SUBCASE("a stretched axis is summed and kept as extent 1") {
        xg::Array row_sums = {10.0f, 26.0f, 42.0f};
        row_sums.reshape({3, 1});
        CHECK(xg::sum_to(g, {3, 1}) == row_sums);
        CHECK(xg::sum_to(g, {1, 4}) == xg::Array{{15.0f, 18.0f, 21.0f, 24.0f}});
    }
    SUBCASE("everything is summed for a scalar") {
        const xg::Array s = xg::sum_to(g, {});
        CHECK(s.dimension() == 0);
        CHECK(s() == 78.0f);
        CHECK(xg::sum_to(g, {1, 1}) == xg::Array(xg::Shape{1, 1}, 78.0f));
    }
    SUBCASE("leading and stretched axes together") {
        const xg::Array h = xt::ones<float>({2, 3, 4});
        const xg::Array r = xg::sum_to(h, {3, 1});
        CHECK(r.shape() == xg::Shape{3, 1});
        CHECK(r == xg::Array(xg::Shape{3, 1}, 8.0f));
    }
}

TEST_CASE("sum_to agrees with a sum in double over every broadcast it can undo") {
    // Kept and summed axes interleaved, leading axes, extents of 1 on either side, empty arrays.
    const std::vector<std::pair<xg::Shape, xg::Shape>> cases = {
        {{5, 7}, {7}},         {{5, 7}, {5, 1}},          {{5, 7}, {}},             {{3, 4, 5, 6}, {4, 1, 6}},
        {{3, 4, 5, 6}, {1, 5, 1}}, {{2, 1, 9}, {1, 1, 1}}, {{1, 1}, {1}},          {{4, 1, 3}, {1, 3}},
        {{0, 5}, {5}},         {{6, 0}, {6, 1}},          {{2, 3, 1000}, {3, 1}},   {{1, 1, 2, 3}, {2, 3}}};
    for (const auto& [from, to] : cases) {
        CAPTURE(xg::format_shape(from));
        CAPTURE(xg::format_shape(to));
        xg::Array g = xg::uninitialized(from);
        // Tenths, which float sums round: the kernel's order of additions shows within the tolerance.
        for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = static_cast<float>(i % 13) * 0.1f - 0.55f;
        // Each gradient element added onto the output element it broadcast from.
        std::vector<double> expected(xg::element_count(to), 0.0);
        const std::size_t lead = from.size() - to.size();
        for (std::size_t e = 0; e < g.size(); ++e) {
            std::size_t rest = e, target = 0, step = 1;
            for (std::size_t a = from.size(); a-- > 0;) {
                const std::size_t index = rest % from[a];
                rest /= from[a];
                if (a >= lead) {
                    if (to[a - lead] != 1) target += index * step;
                    step *= to[a - lead];
                }
            }
            expected[target] += g.data()[e];
        }
        const xg::Array r = xg::sum_to(g, to);
        REQUIRE(r.shape() == to);
        for (std::size_t i = 0; i < expected.size(); ++i) CHECK(r.data()[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE("sum_to of many values to one stays close to the exact sum") {
    // A million times 0.1f: a single float running sum drifts to about 100958; the exact sum is
    // 100000.0015 (0.1f is 0.100000001490116...).
    const xg::Array g = xt::ones<float>({1000, 1000}) * 0.1f;
    CHECK(xg::sum_to(g, {})() == doctest::Approx(100000.0015).epsilon(1e-6));
    xg::Array columns = xg::sum_to(g, {1000, 1});
    CHECK(columns(999, 0) == doctest::Approx(100.0).epsilon(1e-6));
}

TEST_CASE("sum_to rejects shapes that do not broadcast to the gradient") {
    const xg::Array g = xt::zeros<float>({3, 4});
    CHECK_THROWS_WITH_AS(xg::sum_to(g, {2, 3, 4}), doctest::Contains("(3, 4) has fewer axes than its tensor (2, 3, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::sum_to(g, {2, 4}), doctest::Contains("(3, 4) cannot be reduced to tensor shape (2, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::sum_to(g, {3}), xg::ShapeError);
}

TEST_CASE("normalize_axis accepts negative axes and names the op when out of range") {
    CHECK(xg::normalize_axis(0, 3, "sum") == 0);
    CHECK(xg::normalize_axis(2, 3, "sum") == 2);
    CHECK(xg::normalize_axis(-1, 3, "sum") == 2);
    CHECK(xg::normalize_axis(-3, 3, "sum") == 0);
    CHECK_THROWS_WITH_AS(xg::normalize_axis(3, 3, "sum"),
                         doctest::Contains("sum: axis 3 is out of range for a tensor of rank 3"), xg::ShapeError);
    CHECK_THROWS_AS(xg::normalize_axis(-4, 3, "sum"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::normalize_axis(0, 0, "max"),
                         doctest::Contains("max: axis 0 is out of range for a tensor of rank 0; expected a tensor with "
                                           "at least one axis"),
                         xg::ShapeError);
}

TEST_CASE("check_axis_not_empty refuses only an axis of extent 0, wherever the other axes are empty") {
    CHECK_NOTHROW(xg::check_axis_not_empty(xg::Shape{0, 3}, 1, "softmax"));
    CHECK_NOTHROW(xg::check_axis_not_empty(xg::Shape{1}, 0, "mean"));
    CHECK_THROWS_WITH_AS(xg::check_axis_not_empty(xg::Shape{2, 0, 4}, 1, "log_softmax"),
                         doctest::Contains("log_softmax: axis 1 of tensor (2, 0, 4) is empty; expected at least one "
                                           "element"),
                         xg::ShapeError);
}

TEST_CASE("check_float_indices takes an axis of up to 2^24 elements, every position a float of its own") {
    const std::size_t limit = std::size_t{1} << 24;
    CHECK_NOTHROW(xg::check_float_indices(xg::Shape{3, limit}, 1, "argmax"));
    CHECK_NOTHROW(xg::check_float_indices(xg::Shape{limit + 1, 3}, 1, "argmax"));
    CHECK_THROWS_WITH_AS(xg::check_float_indices(xg::Shape{limit + 1, 3}, 0, "top_k"),
                         doctest::Contains("top_k: axis 0 of (16777217, 3) holds 16777217 elements; expected at most "
                                           "2^24, the indices a float holds exactly"),
                         xg::ShapeError);
}

TEST_CASE("checked_element_count counts like element_count, and rejects products past max_array_elements") {
    constexpr std::size_t huge = std::size_t{1} << 40;
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
    // The shapes every op output is made with, and broadcast results, are checked the same way.
    CHECK_THROWS_WITH_AS(xg::uninitialized({huge, huge}), doctest::Contains("uninitialized: shape ("), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::broadcast_shapes({huge, 0, 1}, {1, 0, huge}, "add"), doctest::Contains("add: shape ("),
                         xg::ShapeError);
}

TEST_CASE("scalar_array and uninitialized make arrays of the asked shape") {
    const xg::Array s = xg::scalar_array(2.5f);
    CHECK(s.dimension() == 0);
    CHECK(s.size() == 1);
    CHECK(s() == 2.5f);
    CHECK(xg::uninitialized({2, 5}).shape() == xg::Shape{2, 5});
}
