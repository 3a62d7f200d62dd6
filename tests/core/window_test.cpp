// Tests for lib/xgrad/core/window.cpp: output sizes and padding of a sliding window (Keras's rules).
#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/window.hpp"

TEST_CASE("valid windows stay inside the image") {
    const xg::Window2d g = xg::window_geometry({2, 7, 8, 3}, {3, 2}, {2, 3}, xg::Padding::valid, "op", "window");
    CHECK(g.oh == 3);  // floor((7 - 3) / 2) + 1
    CHECK(g.ow == 3);  // floor((8 - 2) / 3) + 1
    CHECK(g.pad_top == 0);
    CHECK(g.pad_left == 0);
}

TEST_CASE("same padding gives ceil(H / s) outputs and puts the odd padded row after the image") {
    // Rows: 7 with k 4, s 1 -> total 3: 1 before, 2 after. Columns: 8 with k 3, s 2 -> 4 outputs, total 1: 0 before.
    const xg::Window2d g = xg::window_geometry({1, 7, 8, 1}, {4, 3}, {1, 2}, xg::Padding::same, "op", "window");
    CHECK(g.oh == 7);
    CHECK(g.pad_top == 1);
    CHECK(g.ow == 4);
    CHECK(g.pad_left == 0);
    // A window larger than the image still fits once padded.
    const xg::Window2d big = xg::window_geometry({1, 2, 2, 1}, {5, 5}, {1, 1}, xg::Padding::same, "op", "window");
    CHECK(big.oh == 2);
    CHECK(big.pad_top == 2);  // total (2 - 1) + 5 - 2 = 4
    // No padding is needed when the strides cover the image exactly.
    const xg::Window2d exact = xg::window_geometry({1, 6, 6, 1}, {2, 2}, {2, 2}, xg::Padding::same, "op", "window");
    CHECK(exact.oh == 3);
    CHECK(exact.pad_top == 0);
}

TEST_CASE("bad windows are errors naming the op and the argument") {
    CHECK_THROWS_WITH_AS(xg::window_geometry({1, 3, 3}, {2, 2}, {1, 1}, xg::Padding::valid, "pool", "pool_size"),
                         "pool: x has shape (1, 3, 3) (rank 3); expected rank 4, (batch, rows, columns, channels)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::window_geometry({1, 3, 3, 1}, {0, 2}, {1, 1}, xg::Padding::valid, "pool", "pool_size"),
                         "pool: pool_size is (0, 2); expected both extents >= 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::window_geometry({1, 3, 3, 1}, {2, 2}, {1, 0}, xg::Padding::same, "pool", "pool_size"),
                         "pool: strides are (1, 0); expected both >= 1", xg::ValueError);
    CHECK_THROWS_AS(xg::window_geometry({1, 3, 3, 1}, {2, 4}, {1, 1}, xg::Padding::valid, "pool", "pool_size"),
                    xg::ShapeError);
    CHECK(xg::parse_padding("same", "op") == xg::Padding::same);
    CHECK(xg::padding_name(xg::Padding::valid) == "valid");
}
