#include "xgrad/core/elementwise.hpp"

#include <array>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xio.hpp>

#include "xgrad/core/threads.hpp"

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
        // rows of three or two, widened
        {{4, 6, 6, 3}, {3}}, {{5, 1}, {5, 3}},          {{7, 2}, {2}},             {{2, 1, 3}, {2, 2, 1}},
        {{3, 3}, {3, 1}},    {{2, 2}, {}},
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
    // Three and four operands that each hold and run along different axes.
    const std::vector<std::vector<xg::Shape>> mixed = {
        {{1, 1, 8, 16}, {2, 3, 8, 16}, {}}, {{4, 1, 16}, {3, 1}, {16}}, {{5, 1, 9}, {1, 7, 1}, {5, 7, 9}, {9}}};
    for (const auto& shapes : mixed) {
        const xg::Array a = counting(shapes[0], -2.0f);
        const xg::Array b = counting(shapes[1], 0.5f);
        const xg::Array c = counting(shapes[2], 4.0f);
        CHECK(xg::map_elements(a, b, c, f3) == broadcast_reference(f3, a, b, c));
        if (shapes.size() == 4) {
            const xg::Array d = counting(shapes[3], 1.0f);
            CHECK(xg::map_elements(a, b, c, d, f4) == broadcast_reference(f4, a, b, c, d));
        }
    }
}

TEST_CASE("a broadcast walk gives every element once from any range of the output, rows cut anywhere") {
    // The kernel on every [lo, hi) of small outputs, as a split between threads could hand it out.
    const auto f = [](float x, float y, float z) { return x + 10.0f * y + 100.0f * z; };
    const std::vector<std::vector<xg::Shape>> cases = {{{3, 1, 9}, {1, 4, 9}, {}}, {{2, 3, 10}, {3, 1}, {10}},
                                                       {{13}, {}, {1}},
                                                       // short rows widened: cycling, repeating, held
                                                       {{2, 4, 3}, {3}, {2, 1, 1}},
                                                       {{3, 5, 1}, {3, 5, 2}, {1, 5, 1}},
                                                       {{4, 5, 1}, {4, 1, 2}, {}}};
    for (const auto& shapes : cases) {
        const xg::Array a = counting(shapes[0], 1.0f);
        const xg::Array b = counting(shapes[1], 2.0f);
        const xg::Array c = counting(shapes[2], 3.0f);
        const xg::Array expected = broadcast_reference(f, a, b, c);
        const auto walk = xg::detail::broadcast_walk(shapes, "test");
        const std::array<const float*, 3> base{a.data(), b.data(), c.data()};
        const std::size_t n = expected.size();
        for (std::size_t lo = 0; lo < n; ++lo) {
            for (std::size_t hi = lo + 1; hi <= n; ++hi) {
                std::vector<float> out(n, -1.0f);
                xg::detail::map_walk_range(f, walk, base, out.data(), lo, hi);
                bool right = true;
                for (std::size_t e = 0; e < n; ++e) right &= out[e] == (e >= lo && e < hi ? expected.data()[e] : -1.0f);
                CAPTURE(lo);
                CAPTURE(hi);
                CHECK(right);
            }
        }
    }
}

TEST_CASE("map_elements over broadcast shapes split between threads: rows cut anywhere come out whole") {
    const auto f = [](float x, float y) { return x - 3.0f * y; };
    // One long row (a scalar held), rows that a thread's share cuts in the middle, and a held column.
    const std::vector<std::pair<xg::Shape, xg::Shape>> pairs = {
        {{300001}, {}}, {{3, 70003}, {70003}}, {{2, 1, 90001}, {2, 2, 1}}, {{1001, 1}, {1001, 337}},
        {{100003, 3}, {3}}, {{70001, 1}, {70001, 3}}};
    const int threads = xg::num_threads();
    for (int split : {2, 3}) {
        xg::set_num_threads(split);
        for (const auto& [sa, sb] : pairs) {
            CAPTURE(split);
            CAPTURE(xg::format_shape(sa));
            CAPTURE(xg::format_shape(sb));
            const xg::Array a = counting(sa, 2.0f);
            const xg::Array b = counting(sb, -1.0f);
            CHECK(xg::map_elements(a, b, f) == broadcast_reference(f, a, b));
        }
    }
    xg::set_num_threads(threads);
}
