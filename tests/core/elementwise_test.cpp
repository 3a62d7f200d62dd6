#include "xgrad/core/elementwise.hpp"

#include <doctest/doctest.h>
#include <xtensor/xio.hpp>

TEST_CASE("map_elements applies a function to every element and keeps the shape") {
    const xg::Array a = {{1.0f, -2.0f, 3.0f}, {-4.0f, 5.0f, -6.0f}};
    const xg::Array y = xg::map_elements(a, [](float v) { return v * v; });
    CHECK(y == xg::Array{{1.0f, 4.0f, 9.0f}, {16.0f, 25.0f, 36.0f}});
    const xg::Array s = xg::map_elements(xg::scalar_array(3.0f), [](float v) { return -v; });
    CHECK(s.dimension() == 0);
    CHECK(s() == -3.0f);
}

TEST_CASE("map_elements on two arrays: same shapes elementwise, different shapes broadcast like numpy") {
    const xg::Array a = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
    const xg::Array b = {{10.0f, 20.0f, 30.0f}, {40.0f, 50.0f, 60.0f}};
    const auto minus = [](float x, float y) { return x - y; };
    CHECK(xg::map_elements(b, a, minus) == xg::Array{{9.0f, 18.0f, 27.0f}, {36.0f, 45.0f, 54.0f}});
    const xg::Array row = {1.0f, 2.0f, 3.0f};
    CHECK(xg::map_elements(a, row, minus) == xg::Array{{0.0f, 0.0f, 0.0f}, {3.0f, 3.0f, 3.0f}});
    xg::Array column = {1.0f, 2.0f};
    column.reshape({2, 1});
    CHECK(xg::map_elements(column, a, minus) == xg::Array{{0.0f, -1.0f, -2.0f}, {-2.0f, -3.0f, -4.0f}});
}

TEST_CASE("map_elements on three arrays broadcasts when any shape differs") {
    const xg::Array g = {{1.0f, 1.0f}, {2.0f, 2.0f}};
    const xg::Array y = {{0.5f, 0.25f}, {0.5f, 0.25f}};
    const auto rule = [](float a, float b, float c) { return a * b + c; };
    CHECK(xg::map_elements(g, y, g, rule) == xg::Array{{1.5f, 1.25f}, {3.0f, 2.5f}});
    const xg::Array bias = {1.0f, -1.0f};
    CHECK(xg::map_elements(g, y, bias, rule) == xg::Array{{1.5f, -0.75f}, {2.0f, -0.5f}});
}
