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

namespace {

// f over the broadcast of the operands, element by element from each output index: the rule
// itself, independent of how the kernels walk the arrays.
template <class F, class... Arrays>
xg::Array broadcast_reference(F f, const Arrays&... in) {
    xg::Shape shape;
    for (const xg::Shape* s : {&in.shape()...}) shape = shape.empty() ? *s : xg::broadcast_shapes(shape, *s, "reference");
    xg::Array out = xg::uninitialized(shape);
    const auto element = [&shape](const xg::Array& a, std::size_t flat) {
        std::size_t offset = 0, step = 1;
        for (std::size_t i = a.dimension(); i-- > 0;) {
            const std::size_t axis = shape.size() - a.dimension() + i;
            std::size_t rest = flat;
            for (std::size_t j = shape.size(); --j > axis;) rest /= shape[j];
            const std::size_t index = rest % shape[axis];
            if (a.shape()[i] != 1) offset += index * step;
            step *= a.shape()[i];
        }
        return a.data()[offset];
    };
    for (std::size_t e = 0; e < out.size(); ++e) out.data()[e] = f(element(in, e)...);
    return out;
}

xg::Array counting(const xg::Shape& shape, float start) {
    xg::Array a = xg::uninitialized(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = start + static_cast<float>(i % 1000) * 0.5f;
    return a;
}

}  // namespace

TEST_CASE("map_elements over broadcast shapes agrees with the rule element by element") {
    const auto f2 = [](float x, float y) { return x * 2.0f - y; };
    const auto f3 = [](float x, float y, float z) { return x > 0.0f ? y : z; };
    const auto f4 = [](float w, float x, float y, float z) { return w * x + y * z; };
    const std::vector<std::pair<xg::Shape, xg::Shape>> pairs = {
        {{3, 17}, {17}},     {{17}, {3, 17}},           {{5, 1}, {1, 40}},         {{2, 3, 40}, {3, 1}},
        {{2, 3, 40}, {}},    {{}, {2, 3, 40}},          {{4, 1, 9, 12}, {1, 3, 1, 12}}, {{7, 1, 33}, {7, 2, 33}},
        {{0, 12}, {12}},     {{2, 3, 4}, {2, 1, 4}},    {{1, 1}, {}},              {{9, 8}, {1, 1, 1}},
    };
    for (const auto& [sa, sb] : pairs) {
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        const xg::Array a = counting(sa, -3.0f);
        const xg::Array b = counting(sb, 1.5f);
        CHECK(xg::map_elements(a, b, f2) == broadcast_reference(f2, a, b));
        CHECK(xg::map_elements(a, b, a, f3) == broadcast_reference(f3, a, b, a));
        CHECK(xg::map_elements(b, a, b, a, f4) == broadcast_reference(f4, b, a, b, a));
    }
}

TEST_CASE("map_elements over broadcast shapes split between threads: rows cut anywhere come out whole") {
    const auto f = [](float x, float y) { return x - 3.0f * y; };
    // One long row (a scalar held), rows that do not divide a thread's share, and a held column.
    const std::vector<std::pair<xg::Shape, xg::Shape>> pairs = {
        {{300001}, {}}, {{3, 70001}, {70001}}, {{2, 1, 90001}, {2, 2, 1}}, {{1000, 1}, {1000, 333}}};
    for (const auto& [sa, sb] : pairs) {
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        const xg::Array a = counting(sa, 2.0f);
        const xg::Array b = counting(sb, -1.0f);
        CHECK(xg::map_elements(a, b, f) == broadcast_reference(f, a, b));
    }
}
