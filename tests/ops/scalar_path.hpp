#pragma once
// The checks every elementwise op faces on its scalar path. On 0-d inputs held inline
// (Tensor::scalar) the result is held inline too and recorded under the op's name with a
// ScalarRule; its value and gradients match the same op on shape (1,) arrays (the array path,
// a BackwardFn), and gradcheck's central differences. An inline scalar meeting an array takes
// the array path, and its gradient is the sum over the broadcast.
#include <functional>
#include <utility>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg::test {

using UnaryOp = std::function<Tensor(const Tensor&)>;
using BinaryOp = std::function<Tensor(const Tensor&, const Tensor&)>;

/// dL/dy fed into backward: not 1, so that a rule which drops the incoming gradient shows.
inline constexpr float kScalarSeed = 1.75f;

/// op(x) for x = Tensor::scalar(v, true), required to take the scalar path: its value and dL/dx.
inline std::pair<float, float> scalar_value_and_grad(const UnaryOp& op, float v) {
    const Tensor x = Tensor::scalar(v, true);
    const Tensor y = op(x);
    REQUIRE(y.node()->is_scalar());
    REQUIRE(y.creator() != nullptr);
    REQUIRE((y.creator()->scalar_rule != nullptr));
    y.backward();
    return std::pair{y.item(), x.node()->grad_item()};
}

/// A value and gradient pair equal to the expected one, to a relative 1e-6.
inline void check_value_and_grad(std::pair<float, float> actual, std::pair<float, float> expected) {
    CHECK(actual.first == doctest::Approx(expected.first).epsilon(1e-6));
    CHECK(actual.second == doctest::Approx(expected.second).epsilon(1e-6));
}

/// The result of `make` (called once, with recording on) was made on the scalar path.
inline void check_scalar_record(const Tensor& y, const char* op_name) {
    CHECK(y.node()->is_scalar());
    CHECK(y.shape() == Shape{});
    const Record* r = y.creator();
    REQUIRE(r != nullptr);
    CHECK(r->op == op_name);
    CHECK((r->scalar_rule != nullptr));
}

/// gradcheck of `f` on 0-d inputs, checking that its first call (the one gradcheck
/// back-propagates through) was given inline scalars and took the scalar path.
inline void gradcheck_scalar_path(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                  const std::vector<Array>& inputs) {
    int calls = 0;
    bool inputs_inline = false;
    bool scalar_rule = false;
    const auto result = gradcheck(
        [&](const std::vector<Tensor>& in) {
            Tensor y = f(in);
            if (calls++ == 0) {
                inputs_inline = true;
                for (const Tensor& t : in) inputs_inline = inputs_inline && t.node()->is_scalar();
                scalar_rule = y.creator() != nullptr && y.creator()->scalar_rule != nullptr;
            }
            return y;
        },
        inputs);
    CHECK(inputs_inline);
    CHECK(scalar_rule);
    CHECK_MESSAGE(result.passed, result.report());
}

/// op(x) for x = Tensor::scalar(v): scalar path, same value and gradient as on Array{v}, and gradcheck.
inline void check_scalar_unary(const char* op_name, const UnaryOp& op, float v) {
    CAPTURE(op_name);
    CAPTURE(v);
    Tape::current().clear();
    const Tensor x = Tensor::scalar(v, true);
    const Tensor y = op(x);
    check_scalar_record(y, op_name);
    REQUIRE(y.creator()->inputs.size() == 1);
    CHECK(y.creator()->inputs[0] == x.node());
    const float y_scalar = y.item();
    y.backward(scalar_array(kScalarSeed));
    REQUIRE(x.has_grad());
    CHECK(x.grad().shape() == Shape{});
    const float dx = x.node()->grad_item();
    CHECK(x.grad()() == dx);

    const Tensor xa = parameter(Array{v}, "x");
    const Tensor ya = op(xa);
    CHECK_FALSE(ya.node()->is_scalar());
    REQUIRE(ya.creator() != nullptr);
    CHECK(ya.creator()->op == op_name);
    CHECK((ya.creator()->scalar_rule == nullptr));
    ya.backward(Array{kScalarSeed});
    CHECK(y_scalar == doctest::Approx(ya.item()).epsilon(1e-6));
    CHECK(dx == doctest::Approx(xa.grad()(0)).epsilon(1e-6));

    gradcheck_scalar_path([&op](const std::vector<Tensor>& in) { return op(in[0]); }, {scalar_array(v)});
}

/// op(a, b) for two Tensor::scalar: scalar path, same value and gradients as on shape (1,) arrays,
/// gradcheck, and an operand that needs no gradient is given none.
inline void check_scalar_binary(const char* op_name, const BinaryOp& op, float va, float vb) {
    CAPTURE(op_name);
    CAPTURE(va);
    CAPTURE(vb);
    Tape::current().clear();
    const Tensor a = Tensor::scalar(va, true);
    const Tensor b = Tensor::scalar(vb, true);
    const Tensor y = op(a, b);
    check_scalar_record(y, op_name);
    REQUIRE(y.creator()->inputs.size() == 2);
    CHECK(y.creator()->inputs[0] == a.node());
    CHECK(y.creator()->inputs[1] == b.node());
    const float y_scalar = y.item();
    y.backward(scalar_array(kScalarSeed));
    REQUIRE(a.has_grad());
    REQUIRE(b.has_grad());
    const float da = a.node()->grad_item();
    const float db = b.node()->grad_item();

    const Tensor aa = parameter(Array{va}, "a");
    const Tensor ba = parameter(Array{vb}, "b");
    const Tensor ya = op(aa, ba);
    CHECK_FALSE(ya.node()->is_scalar());
    REQUIRE(ya.creator() != nullptr);
    CHECK((ya.creator()->scalar_rule == nullptr));
    ya.backward(Array{kScalarSeed});
    CHECK(y_scalar == doctest::Approx(ya.item()).epsilon(1e-6));
    CHECK(da == doctest::Approx(aa.grad()(0)).epsilon(1e-6));
    CHECK(db == doctest::Approx(ba.grad()(0)).epsilon(1e-6));

    gradcheck_scalar_path([&op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                          {scalar_array(va), scalar_array(vb)});

    // One operand a 0-d value without gradient: still the scalar path, and only the other gets one.
    const Tensor a2 = Tensor::scalar(va, true);
    const Tensor b_fixed = Tensor::scalar(vb);
    const Tensor y2 = op(a2, b_fixed);
    check_scalar_record(y2, op_name);
    y2.backward(scalar_array(kScalarSeed));
    CHECK(a2.node()->grad_item() == da);
    CHECK_FALSE(b_fixed.has_grad());

    const Tensor a_fixed = Tensor::scalar(va);
    const Tensor b2 = Tensor::scalar(vb, true);
    const Tensor y3 = op(a_fixed, b2);
    check_scalar_record(y3, op_name);
    y3.backward(scalar_array(kScalarSeed));
    CHECK(b2.node()->grad_item() == db);
    CHECK_FALSE(a_fixed.has_grad());
}

/// op(s, m) and op(m, s) for an inline scalar s and an array m: the array path with broadcasting;
/// s gets a 0-d gradient equal to that of the same op with s spread over m's shape, summed.
inline void check_scalar_with_array(const char* op_name, const BinaryOp& op, float vs, const Array& m) {
    CAPTURE(op_name);
    CAPTURE(vs);
    Array seed = 0.25f * xt::arange<float>(1.0f, 1.0f + static_cast<float>(m.size()));
    seed.reshape(m.shape());
    for (const bool scalar_first : {true, false}) {
        CAPTURE(scalar_first);
        Tape::current().clear();
        const Tensor s = Tensor::scalar(vs, true);
        const Tensor mt = parameter(m, "m");
        const Tensor y = scalar_first ? op(s, mt) : op(mt, s);
        CHECK_FALSE(y.node()->is_scalar());
        CHECK(y.shape() == m.shape());
        REQUIRE(y.creator() != nullptr);
        CHECK(y.creator()->op == op_name);
        CHECK((y.creator()->scalar_rule == nullptr));
        y.backward(seed);
        REQUIRE(s.has_grad());
        CHECK(s.grad().shape() == Shape{});
        CHECK(s.grad()() == s.node()->grad_item());

        const Tensor spread = parameter(Array(m.shape(), vs), "spread");
        const Tensor m2 = parameter(m, "m2");
        const Tensor y2 = scalar_first ? op(spread, m2) : op(m2, spread);
        y2.backward(seed);
        for (std::size_t k = 0; k < m.size(); ++k) {
            CHECK(y.value().data()[k] == doctest::Approx(y2.value().data()[k]).epsilon(1e-6));
            CHECK(mt.grad().data()[k] == doctest::Approx(m2.grad().data()[k]).epsilon(1e-6));
        }
        const float summed = xt::sum(spread.grad())();
        CHECK(s.node()->grad_item() == doctest::Approx(summed).epsilon(1e-5));

        const auto result = gradcheck(
            [&op, scalar_first](const std::vector<Tensor>& in) { return scalar_first ? op(in[0], in[1]) : op(in[1], in[0]); },
            {scalar_array(vs), m});
        CHECK_MESSAGE(result.passed, result.report());
    }
}

}  // namespace xg::test
