// Tests for lib/xgrad/autograd/tensor_rule.cpp: the walk that records its own gradient ops.
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// (n, 1) from n values ({{a}, {b}} is ambiguous to xtensor).
xg::Array column(std::initializer_list<float> values) {
    xg::Array a(values);
    a.reshape({values.size(), 1});
    return a;
}

// softsign(x) = x / (1 + |x|) with an array rule only.
xg::Tensor softsign(const xg::Tensor& x) {
    xg::Array denominator = 1.0f + xt::abs(x.value());
    xg::Array y = x.value() / denominator;
    return xg::record_op("softsign", {x}, std::move(y), [denominator](xg::GradientContext& ctx) {
        ctx.accumulate(0, ctx.grad() / (denominator * denominator));
    });
}

// The same op with a differentiable rule too: d/dx = 1 / (1 + |x|)^2.
xg::Tensor softsign2(const xg::Tensor& x) {
    xg::Array denominator = 1.0f + xt::abs(x.value());
    xg::Array y = x.value() / denominator;
    return xg::record_op("softsign2", {x}, std::move(y), [denominator](xg::GradientContext& ctx) {
        ctx.accumulate(0, ctx.grad() / (denominator * denominator));
    }, [](xg::TensorGradientContext& ctx) {
        const xg::Tensor d = 1.0f + xg::abs(ctx.input(0));
        ctx.accumulate(0, ctx.grad() / (d * d));
    });
}

// cube(x) = x^3 on the scalar path: a ScalarRule, with or without a registered TensorRule.
void cube_rule(const float* x, float, float g, float* dx) { dx[0] = 3.0f * g * x[0] * x[0]; }
void cube_rule_registered(const float* x, float, float g, float* dx) { dx[0] = 3.0f * g * x[0] * x[0]; }
void cube_tensor_rule(xg::TensorGradientContext& ctx) {
    ctx.accumulate(0, 3.0f * ctx.grad() * ctx.input(0) * ctx.input(0));
}

}  // namespace

TEST_CASE("an op without a differentiable rule: first order works, second order names the op") {
    const xg::Tensor x = xg::parameter(xg::Array{0.5f, -1.5f}, "x");
    xg::GradOptions keep;
    keep.create_graph = true;
    const xg::Tensor g = xg::grad(xg::sum(softsign(x) * x), x, keep);
    // d/dx x s(x) = s(x) + x s'(x)
    CHECK(g.value()(0) == doctest::Approx(0.5f / 1.5f + 0.5f / (1.5f * 1.5f)));
    try {
        xg::grad(xg::sum(g), x);
        FAIL("expected a StateError");
    } catch (const xg::StateError& e) {
        CHECK(std::string(e.what()).find("'softsign'") != std::string::npos);
    }
    CHECK(xg::Tape::current().size() == 0);  // the failed walk still clears the tape
}

TEST_CASE("a user op with a TensorRule passes gradgradcheck") {
    const auto result = xg::gradgradcheck([](const std::vector<xg::Tensor>& in) { return softsign2(in[0]); },
                                          {xg::Array{{0.5f, -1.5f, 2.0f}, {-0.3f, 0.8f, -2.5f}}});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("fan-out and reuse: d2/dx2 of x*x + x is 2 on both paths") {
    for (bool inline_scalar : {true, false}) {
        const xg::Tensor x = inline_scalar ? xg::Tensor::scalar(3.0f, true) : xg::parameter(xg::scalar_array(3.0f), "x");
        xg::GradOptions keep;
        keep.create_graph = true;
        const xg::Tensor g = xg::grad(x * x + x, x, keep);
        CHECK(g.item() == doctest::Approx(7.0f));
        CHECK(xg::grad(g, x).item() == doctest::Approx(2.0f));
    }
}

TEST_CASE("gradients of gradients are deterministic and leave no nodes or records behind") {
    const xg::Array x0{{0.3f, -0.7f, 1.1f}, {0.2f, 0.9f, -1.4f}};
    auto run = [&] {
        const xg::Tensor x = xg::parameter(x0, "x");
        const xg::Tensor w = xg::parameter(column({0.5f, -1.0f, 0.25f}), "w");
        const xg::Tensor y = xg::sum(xg::tanh(xg::matmul(x, w)));
        xg::GradOptions keep;
        keep.create_graph = true;
        const xg::Tensor gx = xg::grad(y, x, keep);
        const xg::Tensor penalty = xg::sum(gx * gx);
        penalty.backward();
        return xg::Array(w.grad());
    };
    const xg::Array first = run();
    const long before = xg::detail::live_node_count();
    for (int i = 0; i < 5; ++i) CHECK(run() == first);
    CHECK(xg::detail::live_node_count() == before);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("a walk with create_graph records under NoGradGuard too, and a plain walk records nothing") {
    const xg::Tensor x = xg::parameter(xg::Array{1.0f, 2.0f}, "x");
    const xg::Tensor y = xg::sum(xg::exp(x));
    const std::size_t recorded = xg::Tape::current().size();
    {
        xg::NoGradGuard off;
        xg::GradOptions keep;
        keep.create_graph = true;
        CHECK(xg::grad(y, x, keep).requires_grad());
    }
    CHECK(xg::Tape::current().size() > recorded);
    const xg::Tensor z = xg::sum(xg::exp(x));
    xg::GradOptions plain;
    plain.retain_graph = true;
    const std::size_t before = xg::Tape::current().size();
    CHECK_FALSE(xg::grad(z, x, plain).requires_grad());
    CHECK(xg::Tape::current().size() == before);
    xg::Tape::current().clear();
}

TEST_CASE("accumulate sums a broadcast gradient back with a recorded op") {
    const xg::Tensor a = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}}, "a");   // (1, 3)
    const xg::Tensor b = xg::parameter(column({1.0f, 2.0f}), "b");        // (2, 1)
    xg::GradOptions keep;
    keep.create_graph = true;
    const std::vector<xg::Tensor> g = xg::grad({xg::sum(a * a * b)}, {a, b}, keep);
    CHECK(g[0].shape() == a.shape());
    CHECK(g[1].shape() == b.shape());
    CHECK(g[0].requires_grad());
    // d/db of sum(da) = sum over rows of 2 a = 2 * 6 for each b
    const xg::Tensor h = xg::grad(xg::sum(g[0]), b);
    CHECK(h.value() == column({12.0f, 12.0f}));
}

TEST_CASE("a user scalar op: without a registered TensorRule a clear error at second order, with one the value") {
    const xg::Tensor x = xg::Tensor::scalar(2.0f, true);
    xg::GradOptions keep;
    keep.create_graph = true;
    const xg::Tensor g = xg::grad(xg::record_scalar_op("cube", {x}, 8.0f, &cube_rule), x, keep);
    CHECK(g.item() == doctest::Approx(12.0f));
    try {
        xg::grad(g, x);
        FAIL("expected a StateError");
    } catch (const xg::StateError& e) {
        CHECK(std::string(e.what()).find("'cube'") != std::string::npos);
    }
    xg::register_scalar_tensor_rule(&cube_rule_registered, &cube_tensor_rule);
    const xg::Tensor h = xg::grad(xg::record_scalar_op("cube", {x}, 8.0f, &cube_rule_registered), x, keep);
    CHECK(xg::grad(h, x).item() == doctest::Approx(12.0f));  // 6 x
    CHECK(xg::Tape::current().size() == 0);
}
