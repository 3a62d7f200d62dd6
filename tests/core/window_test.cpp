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

TEST_CASE("a dilated window spans (k - 1) * d + 1 pixels, and both paddings count the span") {
    // Rows: 3 taps 2 apart span 5: valid floor((9 - 5) / 1) + 1 = 5. Columns: 2 taps 3 apart span 4.
    const xg::Window2d g = xg::window_geometry({1, 9, 8, 1}, {3, 2}, {1, 2}, xg::Padding::valid, "op", "kernel", {2, 3});
    CHECK(g.span_h() == 5);
    CHECK(g.span_w() == 4);
    CHECK(g.oh == 5);
    CHECK(g.ow == 3);  // floor((8 - 4) / 2) + 1
    // same: ceil(H / s) outputs; rows total (9 - 1) + 5 - 9 = 4, 2 before; columns (4 - 1) * 2 + 4 - 8 = 2, 1 before.
    const xg::Window2d s = xg::window_geometry({1, 9, 8, 1}, {3, 2}, {1, 2}, xg::Padding::same, "op", "kernel", {2, 3});
    CHECK(s.oh == 9);
    CHECK(s.pad_top == 2);
    CHECK(s.ow == 4);
    CHECK(s.pad_left == 1);
    // An undilated window is the same as before dilation existed.
    const xg::Window2d plain = xg::window_geometry({1, 9, 8, 1}, {3, 2}, {1, 2}, xg::Padding::valid, "op", "kernel");
    CHECK(plain.span_h() == 3);
    CHECK(plain.oh == 7);
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
    CHECK_THROWS_WITH_AS(xg::window_geometry({1, 3, 3, 1}, {2, 2}, {1, 1}, xg::Padding::same, "conv", "kernel", {0, 1}),
                         "conv: dilation is (0, 1); expected both >= 1", xg::ValueError);
    // 2 taps 2^31 apart span 2^31 + 1 pixels: one past the bound; 2^31 - 1 apart fit it.
    CHECK_THROWS_WITH_AS(
        xg::check_window_span({2, 1}, {std::size_t{1} << 31, 1}, "conv", "kernel"),
        "conv: kernel (2, 1) with dilation (2147483648, 1) spans more than 2147483648 pixels; expected a smaller dilation",
        xg::ValueError);
    CHECK_NOTHROW(xg::check_window_span({2, 1}, {(std::size_t{1} << 31) - 1, 1}, "conv", "kernel"));
    CHECK_NOTHROW(xg::check_window_span({1, 1}, {std::size_t{1} << 62, 1}, "conv", "kernel"));  // one tap spans 1
    CHECK(xg::parse_padding("same", "op") == xg::Padding::same);
    CHECK(xg::padding_name(xg::Padding::valid) == "valid");
}

TEST_CASE("check_window_output_gradient takes only the shape of the windows' output") {
    // x (2, 7, 8, 3) under a 3x2 window with strides (2, 3): 3 by 3 outputs per image.
    const xg::Window2d g = xg::window_geometry({2, 7, 8, 3}, {3, 2}, {2, 3}, xg::Padding::valid, "op", "window");
    CHECK_NOTHROW(xg::check_window_output_gradient({2, 3, 3, 5}, g, 5, {2, 7, 8, 3}, {3, 2, 3, 5}, "conv"));
    CHECK_THROWS_WITH_AS(xg::check_window_output_gradient({2, 3, 4, 5}, g, 5, {2, 7, 8, 3}, {3, 2, 3, 5}, "conv"),
                         "conv: dy has shape (2, 3, 4, 5); expected (2, 3, 3, 5), the output of x (2, 7, 8, 3) "
                         "convolved by kernel (3, 2, 3, 5)",
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::check_window_output_gradient({2, 3, 3, 5}, g, 6, {2, 7, 8, 3}, {3, 2, 3, 2}, "depthwise"),
                    xg::ShapeError);
}
