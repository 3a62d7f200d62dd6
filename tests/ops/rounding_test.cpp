// Tests for lib/xgrad/ops/rounding.cpp: floor, ceil, round and sign, whose gradient is 0.
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include <doctest/doctest.h>
#include <xtensor/xadapt.hpp>

#include "empty_tensor.hpp"
#include "scalar_path.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using Unary = std::function<xg::Tensor(const xg::Tensor&)>;

struct RoundingFunction {
    const char* name;
    Unary op;
};

std::vector<RoundingFunction> rounding_functions() {
    return {{"floor", [](const xg::Tensor& t) { return xg::floor(t); }},
            {"ceil", [](const xg::Tensor& t) { return xg::ceil(t); }},
            {"round", [](const xg::Tensor& t) { return xg::round(t); }},
            {"sign", [](const xg::Tensor& t) { return xg::sign(t); }}};
}

// Bitwise equality, so that NaN matches NaN and -0 does not match 0.
void check_same(const xg::Array& actual, const std::vector<float>& expected) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(std::isnan(actual(i)) == std::isnan(expected[i]));
        if (!std::isnan(expected[i])) {
            CHECK(actual(i) == expected[i]);
            CHECK(std::signbit(actual(i)) == std::signbit(expected[i]));
        }
    }
}

}  // namespace

TEST_CASE("floor, ceil, round and sign: values, halves rounded to even, NaN and infinities passed") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const xg::Tensor x = xg::input(xg::Array{-2.5f, -1.5f, -0.5f, -0.2f, 0.0f, 0.5f, 1.5f, 2.5f, 2.7f, 16777215.0f, nan, inf, -inf});
    check_same(xg::floor(x).value(), {-3.0f, -2.0f, -1.0f, -1.0f, 0.0f, 0.0f, 1.0f, 2.0f, 2.0f, 16777215.0f, nan, inf, -inf});
    check_same(xg::ceil(x).value(), {-2.0f, -1.0f, -0.0f, -0.0f, 0.0f, 1.0f, 2.0f, 3.0f, 3.0f, 16777215.0f, nan, inf, -inf});
    check_same(xg::round(x).value(), {-2.0f, -2.0f, -0.0f, -0.0f, 0.0f, 0.0f, 2.0f, 2.0f, 3.0f, 16777215.0f, nan, inf, -inf});
    check_same(xg::sign(x).value(), {-1.0f, -1.0f, -1.0f, -1.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, nan, 1.0f, -1.0f});
    // Odd halves round up to the even neighbour, even ones down, on either side of 0, up to where a
    // float has no halves (2^23); just below a half rounds down.
    check_same(xg::round(xg::input(xg::Array{3.5f, 4.5f, -3.5f, -4.5f, 4194304.5f, 8388607.5f, -8388607.5f,
                                             0.49999997f, -0.49999997f, 2.4999998f}))
                   .value(),
               {4.0f, 4.0f, -4.0f, -4.0f, 4194304.0f, 8388608.0f, -8388608.0f, 0.0f, -0.0f, 2.0f});
    // Negative zero stays negative through floor, ceil and round; its sign is 0.
    const xg::Tensor negative_zero = xg::input(xg::Array{-0.0f});
    for (const RoundingFunction& f : rounding_functions()) {
        CAPTURE(f.name);
        const float y = f.op(negative_zero).value()(0);
        CHECK(y == 0.0f);
        CHECK(std::signbit(y) == (std::string(f.name) != "sign"));
    }
}

TEST_CASE("floor, ceil and round keep the sign of a zero result, in short arrays and long ones") {
    // 37 elements: whole vector registers and a remainder, whatever the target's width.
    for (const std::size_t n : {std::size_t{2}, std::size_t{37}}) {
        CAPTURE(n);
        xg::Array x = xg::uninitialized({n});
        for (std::size_t i = 0; i < n; ++i) x(i) = i % 2 ? -0.0f : -0.125f * static_cast<float>(1 << (i % 3));  // up to -0.5
        const xg::Tensor t = xg::input(x);
        for (const RoundingFunction& f : rounding_functions()) {
            if (std::string(f.name) == "floor" || std::string(f.name) == "sign") continue;  // floor(-0.25) is -1; sign(-0) is 0
            CAPTURE(f.name);
            const xg::Array y = f.op(t).value();
            for (std::size_t i = 0; i < n; ++i) {
                CAPTURE(i);
                CHECK(y(i) == 0.0f);
                CHECK(std::signbit(y(i)));
            }
        }
        xg::Array negative_zeros = x;
        negative_zeros.fill(-0.0f);
        const xg::Array down = xg::floor(xg::input(negative_zeros)).value();
        for (std::size_t i = 0; i < n; ++i) CHECK((down(i) == 0.0f && std::signbit(down(i))));
    }
}

TEST_CASE("floor, ceil, round and sign have gradient 0, to every order, and leave the other paths' gradients") {
    const std::vector<float> points{-2.25f, -1.75f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f, 2.75f};
    for (const RoundingFunction& f : rounding_functions()) {
        CAPTURE(f.name);
        xg::Tape::current().clear();
        const xg::Tensor x = xg::parameter(xg::Array(xt::adapt(points, {points.size()})), "x");
        const xg::Tensor y = f.op(x);
        REQUIRE(xg::Tape::current().size() == 1);
        CHECK(xg::Tape::current()[0].op == f.name);
        // d(op(x) + 3x)/dx = 3: the rounding adds nothing and takes nothing away.
        xg::sum(y + 3.0f * x).backward();
        for (std::size_t i = 0; i < points.size(); ++i) CHECK(x.grad()(i) == 3.0f);
        const xg::Tensor first = xg::grad(xg::sum(f.op(x) * x), x, {.create_graph = true});
        // d(op(x) x)/dx = op(x); its own derivative is 0 again.
        CHECK(first.value() == f.op(x).value());
        const xg::Tensor second = xg::grad(xg::sum(first), x, {.allow_unused = true});
        if (second.defined()) CHECK(second.value() == xg::Array(xt::zeros<float>({points.size()})));
        // Finite differences agree away from the jumps (whole numbers, halves and 0 are 0.25 away).
        const xg::Array a = xt::adapt(points, {std::size_t{2}, std::size_t{4}});
        const auto checked = xg::gradcheck([&f](const std::vector<xg::Tensor>& in) { return f.op(in[0]) * in[0]; }, {a});
        CHECK_MESSAGE(checked.passed, checked.report());
        xg::test::check_second_order([&f](const std::vector<xg::Tensor>& in) { return f.op(in[0]) * in[0]; }, {a});
        for (const float v : {-1.25f, 2.75f}) xg::test::check_scalar_unary(f.name, f.op, v);
    }
}

TEST_CASE("empty tensors go through floor, ceil, round and sign") {
    for (const RoundingFunction& f : rounding_functions()) {
        CAPTURE(f.name);
        xg::test::check_empty(f.op, {2, 0}, {2, 0});
    }
}
