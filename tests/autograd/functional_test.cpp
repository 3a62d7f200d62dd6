// Tests for lib/xgrad/autograd/functional.cpp: grad, hvp, jacobian, hessian.
#include <algorithm>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/functional.hpp"
#include "check_close.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// Rosenbrock: (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).
xg::Tensor rosenbrock(const xg::Tensor& p) {
    const xg::Tensor x = xg::slice(p, 0, 0, 1);
    const xg::Tensor y = xg::slice(p, 0, 1, 2);
    return xg::sum(xg::square(1.0f - x) + 100.0f * xg::square(y - xg::square(x)));
}

using xg::test::check_close;

}  // namespace

TEST_CASE("d2/dx2 of x^3 at 2 is 12, and d3/dx3 is 6, on the scalar path and on arrays") {
    for (bool inline_scalar : {true, false}) {
        CAPTURE(inline_scalar);
        const xg::Tensor x = inline_scalar ? xg::Tensor::scalar(2.0f, true) : xg::parameter(xg::scalar_array(2.0f), "x");
        const xg::Tensor y = x * x * x;
        xg::GradOptions keep;
        keep.create_graph = true;
        const xg::Tensor dy = xg::grad(y, x, keep);
        CHECK(dy.item() == doctest::Approx(12.0f));
        const xg::Tensor d2y = xg::grad(dy, x, keep);
        CHECK(d2y.item() == doctest::Approx(12.0f));
        const xg::Tensor d3y = xg::grad(d2y, x);
        CHECK(d3y.item() == doctest::Approx(6.0f));
        CHECK(xg::Tape::current().size() == 0);
        CHECK_FALSE(x.has_grad());  // grad() leaves .grad() alone
    }
}

TEST_CASE("the Hessian of the Rosenbrock function at (1, 1) is [[802, -400], [-400, 200]]") {
    const xg::Array h = xg::hessian(rosenbrock, xg::Array{1.0f, 1.0f});
    check_close(h, xg::Array{{802.0f, -400.0f}, {-400.0f, 200.0f}});
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("jacobian of an elementwise and a matrix function") {
    const xg::Array a{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}};
    const xg::Array j = xg::jacobian([&](const xg::Tensor& x) { return xg::matmul(xg::constant(a), xg::reshape(x, {2, 1})); },
                                     xg::Array{0.5f, -1.0f});
    REQUIRE(j.shape() == xg::Shape{3, 1, 2});
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t c = 0; c < 2; ++c) CHECK(j(r, 0, c) == doctest::Approx(a(r, c)));
    }
    const xg::Array d = xg::jacobian([](const xg::Tensor& x) { return xg::exp(x); }, xg::Array{0.0f, 1.0f});
    check_close(d, xg::Array{{1.0f, 0.0f}, {0.0f, 2.7182817f}});
}

TEST_CASE("hvp of a small MLP's loss equals the explicit Hessian built column by column") {
    xt::random::seed(7);
    const xg::Array x = xt::random::randn<float>({4, 3});
    const xg::Array targets{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}};
    const xg::Array w1_0 = 0.5f * xt::random::randn<float>({3, 5});
    const xg::Array w2_0 = 0.5f * xt::random::randn<float>({5, 2});
    const xg::Array b1_0 = 0.1f * xt::random::randn<float>({5});
    // loss(w1, b1, w2) = softmax_cross_entropy(tanh(x w1 + b1) w2, targets)
    auto loss = [&](const std::vector<xg::Tensor>& p) {
        const xg::Tensor h = xg::tanh(xg::linear(xg::constant(x), p[0], p[1]));
        return xg::softmax_cross_entropy(xg::matmul(h, p[2]), xg::constant(targets));
    };
    std::vector<xg::Tensor> params{xg::parameter(w1_0, "w1"), xg::parameter(b1_0, "b1"), xg::parameter(w2_0, "w2")};
    std::vector<xg::Tensor> v;
    for (const auto& p : params) v.push_back(xg::constant(xt::random::randn<float>(p.shape())));
    const std::vector<xg::Tensor> hv = xg::hvp(loss, params, v);
    CHECK(xg::Tape::current().size() == 0);

    // The explicit Hessian over all 15 + 5 + 10 parameters as one flat vector, column j from
    // the gradient of (dloss/dtheta)_j.
    const std::size_t n1 = 15, n2 = 5, n3 = 10, n = n1 + n2 + n3;
    xg::Array flat = xt::zeros<float>({n});
    std::copy(w1_0.begin(), w1_0.end(), flat.begin());
    std::copy(b1_0.begin(), b1_0.end(), flat.begin() + n1);
    std::copy(w2_0.begin(), w2_0.end(), flat.begin() + n1 + n2);
    const xg::Array hessian = xg::hessian([&](const xg::Tensor& t) {
        return loss({xg::reshape(xg::slice(t, 0, 0, n1), {3, 5}), xg::slice(t, 0, n1, n1 + n2),
                     xg::reshape(xg::slice(t, 0, n1 + n2, n), {5, 2})});
    }, flat);
    xg::Array vflat = xt::zeros<float>({n});
    std::copy(v[0].value().begin(), v[0].value().end(), vflat.begin());
    std::copy(v[1].value().begin(), v[1].value().end(), vflat.begin() + n1);
    std::copy(v[2].value().begin(), v[2].value().end(), vflat.begin() + n1 + n2);
    std::vector<float> expected(n, 0.0f);
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < n; ++c) expected[r] += hessian(r, c) * vflat(c);
    }
    std::vector<float> actual;
    for (const auto& t : hv) actual.insert(actual.end(), t.value().begin(), t.value().end());
    REQUIRE(actual.size() == n);
    for (std::size_t r = 0; r < n; ++r) CHECK(actual[r] == doctest::Approx(expected[r]).epsilon(1e-4).scale(1.0));
    // the Hessian of a smooth function is symmetric
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < r; ++c) CHECK(hessian(r, c) == doctest::Approx(hessian(c, r)).epsilon(1e-4).scale(1.0));
    }
}

TEST_CASE("backward with create_graph leaves recorded gradients that train a gradient penalty") {
    xg::Tensor x = xg::parameter(xg::Array{1.0f, -2.0f}, "x");
    const xg::Tensor y = xg::sum(xg::pow(x, 3.0f));
    y.backward(false, true);
    check_close(x.grad(), xg::Array{3.0f, 12.0f});
    const xg::Tensor g = x.grad_tensor();
    CHECK(g.requires_grad());
    x.zero_grad();
    xg::sum(g).backward();  // d/dx sum(3 x^2) = 6 x
    check_close(x.grad(), xg::Array{6.0f, -12.0f});
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("a plain backward or set_grad after a create_graph backward leaves grad_tensor equal to grad") {
    for (bool scalar : {false, true}) {
        INFO("scalar " << scalar);
        xg::Tensor x = scalar ? xg::parameter(xg::scalar_array(2.0f), "x") : xg::parameter(xg::Array{1.0f, -2.0f}, "x");
        xg::sum(xg::pow(x, 3.0f)).backward(false, true);  // 3 x^2, recorded
        REQUIRE(x.grad_tensor().requires_grad());
        xg::Tape::current().clear();
        xg::sum(x * 2.0f).backward();  // adds 2
        const xg::Array expected = 3.0f * x.value() * x.value() + 2.0f;
        check_close(x.grad(), expected);
        check_close(x.grad_tensor().value(), expected);
        CHECK_FALSE(x.grad_tensor().requires_grad());
        xg::sum(xg::pow(x, 3.0f)).backward(false, true);  // recorded again, on top of the sum
        check_close(x.grad_tensor().value(), expected + 3.0f * x.value() * x.value());
        xg::Tape::current().clear();
        x.set_grad(xt::zeros_like(x.value()));
        check_close(x.grad_tensor().value(), xt::zeros_like(x.value()));
        x.zero_grad();
    }
}

TEST_CASE("grad checks its arguments") {
    const xg::Tensor x = xg::parameter(xg::Array{1.0f, 2.0f}, "x");
    const xg::Tensor unused = xg::parameter(xg::Array{1.0f}, "unused");
    SUBCASE("a non-scalar output needs grad_outputs") {
        CHECK_THROWS_AS(xg::grad(x * x, x), xg::ShapeError);
    }
    SUBCASE("an input the outputs do not reach") {
        CHECK_THROWS_AS(xg::grad(xg::sum(x), unused), xg::ValueError);
        xg::Tape::current().clear();
        xg::GradOptions options;
        options.allow_unused = true;
        CHECK_FALSE(xg::grad(xg::sum(x), unused, options).defined());
    }
    SUBCASE("create_graph with retain_graph false") {
        xg::GradOptions options;
        options.create_graph = true;
        options.retain_graph = false;
        CHECK_THROWS_AS(xg::grad(xg::sum(x), x, options), xg::ValueError);
    }
    SUBCASE("an input that needs no gradient") {
        CHECK_THROWS_AS(xg::grad(xg::sum(x), xg::input(xg::Array{1.0f})), xg::ValueError);
    }
    xg::Tape::current().clear();
}

TEST_CASE("grad with a seed gives the vector-Jacobian product, and grad_outputs can be differentiated") {
    const xg::Tensor x = xg::parameter(xg::Array{1.0f, 2.0f, 3.0f}, "x");
    const xg::Tensor seed = xg::parameter(xg::Array{1.0f, 0.0f, 2.0f}, "v");
    xg::GradOptions options;
    options.grad_outputs = {seed};
    options.create_graph = true;
    const xg::Tensor vjp = xg::grad(xg::square(x), x, options);  // 2 x v
    check_close(vjp.value(), xg::Array{2.0f, 0.0f, 12.0f});
    const xg::Tensor dv = xg::grad(xg::sum(vjp), seed);  // d/dv sum(2 x v) = 2 x
    check_close(dv.value(), xg::Array{2.0f, 4.0f, 6.0f});
}

TEST_CASE("hvp through a small convnet equals finite differences of its gradient") {
    // conv2d -> relu -> max_pool2d -> batch_norm (training) -> weighted sum, over the image, the
    // kernel, gamma and beta: the batch statistics make the loss nonlinear in all but beta.
    xt::random::seed(23);
    const std::vector<xg::Array> at{xt::random::randn<float>({2, 6, 5, 2}), 0.5f * xt::random::randn<float>({3, 3, 2, 3}),
                                    1.0f + 0.2f * xt::random::randn<float>({3}), 0.2f * xt::random::randn<float>({3})};
    const xg::Array weights = xt::random::randn<float>({2, 3, 3, 3});
    auto loss = [&](const std::vector<xg::Tensor>& p) {
        const xg::Tensor h = xg::relu(xg::conv2d(p[0], p[1], {1, 1}, xg::Padding::same));  // (2, 6, 5, 3)
        const xg::Tensor pooled = xg::max_pool2d(h, {2, 2}, {2, 2}, xg::Padding::same);     // (2, 3, 3, 3)
        const xg::Tensor moving_mean = xg::input(xt::zeros<float>({3})), moving_var = xg::input(xt::ones<float>({3}));
        const xg::Tensor y = xg::batch_norm(pooled, p[2], p[3], moving_mean, moving_var, true, 0.9f, 1e-2f);
        return xg::sum(y * xg::constant(weights));
    };
    std::vector<xg::Tensor> params, v;
    for (std::size_t i = 0; i < at.size(); ++i) {
        params.push_back(xg::parameter(at[i], "p"));
        v.push_back(xg::constant(xt::random::randn<float>(at[i].shape())));
    }
    const std::vector<xg::Tensor> hv = xg::hvp(loss, params, v);
    CHECK(xg::Tape::current().size() == 0);

    // The gradient by plain backward (the array rules) at at +- step * v.
    const float step = 2e-3f;
    auto gradient_at = [&](float sign) {
        std::vector<xg::Tensor> p;
        for (std::size_t i = 0; i < at.size(); ++i) p.push_back(xg::parameter(xg::Array(at[i] + sign * step * v[i].value()), "p"));
        loss(p).backward();
        std::vector<xg::Array> g;
        for (const xg::Tensor& t : p) g.push_back(t.grad());
        return g;
    };
    const std::vector<xg::Array> up = gradient_at(1.0f), down = gradient_at(-1.0f);
    for (std::size_t i = 0; i < at.size(); ++i) {
        CAPTURE(i);
        const xg::Array numeric = (up[i] - down[i]) / (2.0f * step);
        const double scale = std::max(1.0, static_cast<double>(xt::amax(xt::abs(numeric))()));
        CHECK(xt::amax(xt::abs(hv[i].value() - numeric))() / scale < 2e-2);
    }
    // Not vacuous: the blocks of the image, the kernel and gamma are far from 0; beta enters linearly.
    for (std::size_t i = 0; i < 3; ++i) CHECK(xt::amax(xt::abs(hv[i].value()))() > 1e-2);
    CHECK(xt::amax(xt::abs(hv[3].value()))() < 1e-4);
}
