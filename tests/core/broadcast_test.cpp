#include "xgrad/core/broadcast.hpp"

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

using xg::Shape;
using xg::element_count;
using xg::detail::Along;
using xg::detail::broadcast_walk;

TEST_CASE("broadcast_walk merges the axes every operand moves along alike into rows") {
    SUBCASE("a bias over a batch: rows of the bias's length, the bias held between rows") {
        const auto w = broadcast_walk({Shape{128, 512}, Shape{512}}, "add");
        CHECK(w.shape == Shape{128, 512});
        CHECK(w.row_length == 512);
        CHECK(w.outer == Shape{128});
        CHECK(w.strides == std::vector<std::vector<std::size_t>>{{512}, {0}});
        CHECK(w.along == std::vector<Along>{Along::runs, Along::runs});
    }
    SUBCASE("a scalar against a 4-d array: one row, the scalar held") {
        const auto w = broadcast_walk({Shape{4, 512, 512}, Shape{}}, "mul");
        CHECK(w.row_length == 4 * 512 * 512);
        CHECK(w.outer.empty());
        CHECK(w.along == std::vector<Along>{Along::runs, Along::holds});
    }
    SUBCASE("a column against a row: the column holds along each row, the row runs") {
        const auto w = broadcast_walk({Shape{64, 1}, Shape{1, 48}}, "mul");
        CHECK(w.shape == Shape{64, 48});
        CHECK(w.row_length == 48);
        CHECK(w.outer == Shape{64});
        CHECK(w.strides == std::vector<std::vector<std::size_t>>{{1}, {0}});
        CHECK(w.along == std::vector<Along>{Along::holds, Along::runs});
    }
    SUBCASE("a mask over heads: the heads axis stays apart, the two inner axes merge") {
        const auto w = broadcast_walk({Shape{1, 1, 8, 8}, Shape{2, 4, 8, 8}}, "where");
        CHECK(w.row_length == 64);
        CHECK(w.outer == Shape{8});  // batch and heads: both operands move alike along them
        CHECK(w.strides == std::vector<std::vector<std::size_t>>{{0}, {64}});
    }
    SUBCASE("channels last: rows of three widen into one, along which the per-channel scale cycles") {
        const auto w = broadcast_walk({Shape{2, 5, 5, 3}, Shape{1, 1, 3}, Shape{2, 5, 5, 3}}, "scale");
        CHECK(w.row_length == 150);
        CHECK(w.outer.empty());
        CHECK(w.period == 3);
        CHECK(w.along == std::vector<Along>{Along::runs, Along::cycles, Along::runs});
    }
    SUBCASE("a short column widens into rows along which it repeats each value") {
        const auto w = broadcast_walk({Shape{4, 5, 1}, Shape{4, 5, 2}}, "sub");
        CHECK(w.row_length == 40);  // (4, 5) merged into 20 rows of 2, then widened
        CHECK(w.outer.empty());
        CHECK(w.period == 2);
        CHECK(w.along == std::vector<Along>{Along::repeats, Along::runs});
    }
    SUBCASE("one operand repeating and one cycling along the same widened rows") {
        const auto w = broadcast_walk({Shape{4, 5, 1}, Shape{4, 1, 2}}, "mul");
        CHECK(w.row_length == 10);
        CHECK(w.outer == Shape{4});
        CHECK(w.period == 2);
        CHECK(w.along == std::vector<Along>{Along::repeats, Along::cycles});
        CHECK(w.strides == std::vector<std::vector<std::size_t>>{{5}, {2}});
    }
    SUBCASE("a short row that a held operand shares widens with it still held") {
        const auto w = broadcast_walk({Shape{6, 1, 3}, Shape{}, Shape{6, 7, 3}}, "where");
        CHECK(w.row_length == 21);
        CHECK(w.outer == Shape{6});
        CHECK(w.along == std::vector<Along>{Along::cycles, Along::holds, Along::runs});
        CHECK(w.strides == std::vector<std::vector<std::size_t>>{{3}, {0}, {21}});
    }
    SUBCASE("every extent 1: one row of one element") {
        const auto w = broadcast_walk({Shape{1, 1}, Shape{}}, "add");
        CHECK(w.shape == Shape{1, 1});
        CHECK(w.row_length == 1);
        CHECK(w.outer.empty());
        CHECK(w.size() == 1);
    }
    SUBCASE("an empty output has no elements") {
        const auto w = broadcast_walk({Shape{0, 3}, Shape{3}}, "add");
        CHECK(w.shape == Shape{0, 3});
        CHECK(w.size() == 0);
        CHECK(w.row_length * element_count(w.outer) == 0);
        const auto rows_of_none = broadcast_walk({Shape{4, 0}, Shape{1}}, "add");
        CHECK(rows_of_none.size() == 0);
        CHECK(rows_of_none.row_length == 0);
    }
}

TEST_CASE("broadcast_walk refuses shapes that do not broadcast, naming the op") {
    CHECK_THROWS_WITH_AS(broadcast_walk({Shape{2, 3}, Shape{4}}, "add"),
                         doctest::Contains("add: shapes (2, 3), (4,) do not broadcast together"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(broadcast_walk({Shape{2, 3}, Shape{2, 1}, Shape{3, 1}}, "where"),
                         doctest::Contains("where: shapes (2, 3), (2, 1), (3, 1) do not broadcast together"),
                         xg::ShapeError);
}
