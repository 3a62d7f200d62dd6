#include "xgrad/autograd/tape.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include "check_close.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// A user-defined op, written exactly as docs/architecture.md ("How to add an op") shows.
xg::Tensor cube(const xg::Tensor& x) {
    return xg::record_op("cube", {x}, x.value() * x.value() * x.value(), [](xg::GradientContext& ctx) {
        // d(x^3)/dx = 3 x^2
        const xg::Array& x = ctx.input(0);
        ctx.accumulate(0, 3.0f * ctx.grad() * x * x);
    });
}

// A user-defined scalar op: y = x0 x1 + x0, with dy/dx0 = x1 + 1 and dy/dx1 = x0.
void mul_add_rule(const float* x, float, float g, float* dx) {
    dx[0] = g * (x[1] + 1.0f);
    dx[1] = g * x[0];
}

xg::Tensor mul_add(const xg::Tensor& a, const xg::Tensor& b) {
    return xg::record_scalar_op("mul_add", {a, b}, a.item() * b.item() + a.item(), &mul_add_rule);
}

// A scalar op with a rule that produces NaN.
void nan_rule(const float*, float, float, float* dx) { dx[0] = std::numeric_limits<float>::quiet_NaN(); }

// The tape's size each time `counting_rule` ran, newest first.
std::vector<std::size_t> tape_sizes_seen;
void counting_rule(const float*, float, float g, float* dx) {
    tape_sizes_seen.push_back(xg::Tape::current().size());
    dx[0] = g;
}

using xg::test::check_close;

}  // namespace

TEST_CASE("ops on tensors that need a gradient are recorded in execution order") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor w = xg::parameter(xt::ones<float>({2, 3}), "w");
    const xg::Tensor x = xg::input(xt::ones<float>({3}));
    const xg::Tensor y = xg::relu(w + x);
    const xg::Tensor z = xg::sum(y, -1);
    REQUIRE(tape.size() == 3);
    CHECK(tape[0].op == "add");
    CHECK(tape[1].op == "relu");
    CHECK(tape[2].op == "sum");
    CHECK(tape[2].attributes().to_string() == "axis=1");
    REQUIRE(tape[0].inputs.size() == 2);
    CHECK(tape[0].inputs[1] == x.node());
    CHECK(tape[1].inputs[0] == tape[0].output.get());
    CHECK(z.role() == xg::Role::result);

    // Ops on data alone need no gradient and leave no record.
    const xg::Tensor plain = xg::relu(x * 2.0f);
    CHECK_FALSE(plain.requires_grad());
    CHECK(tape.size() == 3);
    tape.clear();
    CHECK(tape.size() == 0);
}

TEST_CASE("a reused tensor gets the sum of its gradients") {
    const xg::Tensor a = xg::parameter(xg::Array{1.0f, -2.0f, 3.0f}, "a");

    SUBCASE("a + a") {
        xg::sum(a + a).backward();
        CHECK(a.grad() == xg::Array{2.0f, 2.0f, 2.0f});
    }
    SUBCASE("x * x") {
        xg::sum(a * a).backward();
        CHECK(a.grad() == xg::Array{2.0f, -4.0f, 6.0f});
    }
    SUBCASE("a diamond: two paths from x meet again") {
        // y = sum(exp(x) * x^2);  dy/dx = exp(x) (x^2 + 2x)
        const xg::Tensor u = xg::exp(a);
        const xg::Tensor v = a * a;
        xg::sum(u * v).backward();
        const xg::Array x = a.value();
        check_close(a.grad(), xt::exp(x) * (x * x + 2.0f * x));

        const auto check = xg::gradcheck(
            [](const std::vector<xg::Tensor>& in) { return xg::exp(in[0]) * (in[0] * in[0]); }, {x});
        CHECK_MESSAGE(check.passed, check.report());
    }
    SUBCASE("one intermediate feeding two consumers") {
        // h = 3a; y = sum(h * h + h) -> dy/da = 3 (2h + 1)
        const xg::Tensor h = a * 3.0f;
        xg::sum(h * h + h).backward();
        check_close(a.grad(), 3.0f * (2.0f * (3.0f * a.value()) + 1.0f));
    }
}

TEST_CASE("a chain of 100000 ops back-propagates without recursion") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor x = xg::Tensor::scalar(0.5f, true);
    xg::Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1e-5f;
    CHECK(tape.size() == 100000);
    CHECK(y.item() == doctest::Approx(1.5f).epsilon(1e-2));
    y.backward();
    CHECK(x.grad()() == 1.0f);
    CHECK(tape.size() == 0);

    // Dropping an unused deep graph is as flat as walking it.
    y = x;
    for (int i = 0; i < 100000; ++i) y = xg::tanh(y);
    CHECK(tape.size() == 100000);
    tape.clear();
}

TEST_CASE("backward of a non-scalar needs a seed of its shape") {
    const xg::Tensor w = xg::parameter(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}}, "w");
    const xg::Tensor y = w * w;
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: output has shape (2, 2); expected a scalar"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(y.backward(xt::ones<float>({2})),
                         doctest::Contains("seed gradient has shape (2,); expected the output's shape (2, 2)"),
                         xg::ShapeError);
    CHECK_FALSE(w.has_grad());

    const xg::Array seed = {{1.0f, 0.0f}, {0.5f, 2.0f}};
    y.backward(seed);
    CHECK(w.grad() == xg::Array{{2.0f, 0.0f}, {3.0f, 16.0f}});
}

TEST_CASE("backward from a leaf seeds it directly") {
    const xg::Tensor s = xg::Tensor::scalar(3.0f, true);
    s.backward();
    CHECK(s.grad()() == 1.0f);
}

TEST_CASE("backward from a tensor that needs no gradient is a StateError") {
    const xg::Tensor x = xg::input(xg::Array{1.0f, 2.0f});
    CHECK_THROWS_WITH_AS(xg::sum(x).backward(), doctest::Contains("does not require a gradient"), xg::StateError);
}

TEST_CASE("detach cuts the history") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    // y = sum(stop(2w) * w): the detached factor is a constant, so dy/dw = 2w, not 4w.
    const xg::Tensor y = xg::sum((w * 2.0f).detach() * w);
    y.backward();
    CHECK(w.grad() == xg::Array{2.0f, 4.0f});
}

TEST_CASE("gradients of leaves accumulate over backward calls until zero_grad") {
    xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    xg::sum(w * w).backward();
    xg::sum(w * w).backward();
    CHECK(w.grad() == xg::Array{4.0f, 8.0f});
    w.zero_grad();
    xg::sum(w * w).backward();
    CHECK(w.grad() == xg::Array{2.0f, 4.0f});
}

TEST_CASE("backward clears the tape unless retain_graph") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");

    SUBCASE("cleared by default, and a second backward is a StateError") {
        const xg::Tensor y = xg::sum(w * w);
        CHECK(tape.size() == 2);
        y.backward();
        CHECK(tape.size() == 0);
        CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("cleared"), xg::StateError);
        CHECK(w.grad() == xg::Array{2.0f, 4.0f});
    }
    SUBCASE("kept with retain_graph: backward twice adds up") {
        const xg::Tensor y = xg::sum(w * w);
        y.backward(true);
        CHECK(tape.size() == 2);
        y.backward();
        CHECK(tape.size() == 0);
        CHECK(w.grad() == xg::Array{4.0f, 8.0f});
    }
    SUBCASE("two heads on one trunk") {
        const xg::Tensor h = w * w;
        const xg::Tensor first = xg::sum(h);
        const xg::Tensor second = xg::sum(h * 3.0f);
        first.backward(true);
        second.backward();
        CHECK(w.grad() == xg::Array{8.0f, 16.0f});
    }
}

TEST_CASE("a result from a cleared tape cannot be used as an op input") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    const xg::Tensor h = w * w;
    xg::sum(h).backward();
    CHECK_THROWS_WITH_AS(h * 2.0f, doctest::Contains("mul: input 0 (2,) was recorded on a tape that has since been cleared"),
                         xg::StateError);
    // Detached, its value is fine to use.
    const xg::Tensor y = xg::sum(h.detach() * w);
    y.backward();
    CHECK(w.grad() == xg::Array{2.0f + 1.0f, 4.0f + 4.0f});
}

TEST_CASE("intermediate gradients are dropped unless retain_grad") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    xg::Tensor h = w * 3.0f;
    xg::Tensor y = xg::sum(h * h);

    SUBCASE("dropped by default") {
        y.backward();
        CHECK_FALSE(h.has_grad());
        CHECK_FALSE(y.has_grad());
        CHECK(w.grad() == xg::Array{18.0f, 36.0f});
    }
    SUBCASE("kept with retain_grad") {
        h.retain_grad();
        y.backward();
        REQUIRE(h.has_grad());
        CHECK(h.grad() == xg::Array{6.0f, 12.0f});
        CHECK(w.grad() == xg::Array{18.0f, 36.0f});
    }
}

TEST_CASE("a retained gradient is not propagated a second time by a later backward") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    xg::Tensor h = w * 3.0f;
    h.retain_grad();
    const xg::Tensor y = xg::sum(h * h);

    SUBCASE("the same root twice") {
        y.backward(true);
        y.backward();
        // Both the retained and the leaf gradient are exactly twice one backward's.
        CHECK(h.grad() == xg::Array{12.0f, 24.0f});
        CHECK(w.grad() == xg::Array{36.0f, 72.0f});
    }
    SUBCASE("a later root that does not reach the retained tensor") {
        y.backward(true);
        xg::sum(w * 5.0f).backward();
        CHECK(h.grad() == xg::Array{6.0f, 12.0f});
        CHECK(w.grad() == xg::Array{18.0f + 5.0f, 36.0f + 5.0f});
    }
    SUBCASE("a retained root") {
        xg::Tensor z = h * 2.0f;
        z.retain_grad();
        z.backward(xt::ones<float>({2}), true);
        z.backward(xt::ones<float>({2}));
        CHECK(z.grad() == xg::Array{2.0f, 2.0f});
        CHECK(w.grad() == xg::Array{12.0f, 12.0f});
    }
}

TEST_CASE("micrograd's README expression gives micrograd's numbers") {
    const xg::Tensor a = xg::Tensor::scalar(-4.0f, true);
    const xg::Tensor b = xg::Tensor::scalar(2.0f, true);
    xg::Tensor c = a + b;
    xg::Tensor d = a * b + xg::pow(b, 3.0f);
    c = c + (c + 1.0f);
    c = c + (1.0f + c + (-a));
    d = d + (d * 2.0f + xg::relu(b + a));
    d = d + (3.0f * d + xg::relu(b - a));
    const xg::Tensor e = c - d;
    const xg::Tensor f = xg::pow(e, 2.0f);
    xg::Tensor g = f / 2.0f;
    g = g + 10.0f / f;
    CHECK(g.rank() == 0);
    CHECK(g.item() == doctest::Approx(24.7041).epsilon(1e-5));
    g.backward();
    CHECK(a.grad()() == doctest::Approx(138.8338).epsilon(1e-5));
    CHECK(b.grad()() == doctest::Approx(645.5773).epsilon(1e-5));
}

TEST_CASE("memory stays flat over many training steps") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    xg::Tensor w = xg::parameter(xg::Array(xg::Shape{4, 3}, 0.1f), "w");
    xg::Tensor b = xg::parameter(xt::zeros<float>({3}), "b");
    xg::Array x_value = xt::arange<float>(-1.0f, 1.0f, 0.0625f);
    x_value.reshape({8, 4});
    const xg::Tensor x = xg::input(x_value);
    const xg::Tensor labels = xg::input(xg::Array{0.0f, 1.0f, 2.0f, 0.0f, 1.0f, 2.0f, 0.0f, 1.0f}, "labels");

    auto step = [&] {
        w.zero_grad();
        b.zero_grad();
        const xg::Tensor loss = xg::sparse_softmax_cross_entropy(xg::tanh(xg::linear(x, w, b)) * 3.0f, labels);
        loss.backward();
        xg::NoGradGuard no_grad;
        w.mutable_value() -= 0.1f * w.grad();
        b.mutable_value() -= 0.1f * b.grad();
        return loss.item();
    };
    const float first_loss = step();
    const long nodes_after_first = xg::detail::live_node_count();
    float last_loss = first_loss;
    for (int i = 1; i < 1000; ++i) {
        last_loss = step();
        REQUIRE(tape.size() == 0);
    }
    CHECK(xg::detail::live_node_count() == nodes_after_first);
    CHECK(last_loss < first_loss);
}

TEST_CASE("each thread has its own tape") {
    // The same small network, built and back-propagated from scratch.
    auto grads = [](float scale) {
        xg::Array w_value = scale * xt::arange<float>(-3.0f, 3.0f);
        w_value.reshape({3, 2});
        xg::Array x_value = 0.1f * xt::arange<float>(12.0f);
        x_value.reshape({4, 3});
        xg::Tensor w = xg::parameter(w_value, "w");
        const xg::Tensor x = xg::input(x_value);
        xg::Array last;
        for (int i = 0; i < 200; ++i) {
            w.zero_grad();
            xg::mean(xg::square(xg::tanh(xg::matmul(x, w)))).backward();
            last = w.grad();
        }
        return last;
    };
    const xg::Array expected_a = grads(0.1f);
    const xg::Array expected_b = grads(-0.2f);

    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor mine = xg::parameter(xg::Array{1.0f}, "mine");
    const xg::Tensor kept = mine * 2.0f;
    REQUIRE(tape.size() == 1);

    xg::Array got_a, got_b;
    std::size_t tape_size_a = 1, tape_size_b = 1;
    std::thread ta([&] {
        got_a = grads(0.1f);
        tape_size_a = xg::Tape::current().size();
    });
    std::thread tb([&] {
        got_b = grads(-0.2f);
        tape_size_b = xg::Tape::current().size();
    });
    ta.join();
    tb.join();
    CHECK(got_a == expected_a);
    CHECK(got_b == expected_b);
    CHECK(tape_size_a == 0);
    CHECK(tape_size_b == 0);
    // This thread's tape was not touched by the others' backward passes.
    CHECK(tape.size() == 1);
    kept.backward(xg::Array{1.0f});
    CHECK(mine.grad() == xg::Array{2.0f});
}

TEST_CASE("ScopeGuard tags records with the module path") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor w = xg::parameter(xg::Array{1.0f}, "w");
    {
        xg::ScopeGuard model("model");
        {
            xg::ScopeGuard dense("dense_1");
            CHECK(tape.scope() == "model/dense_1");
            const xg::Tensor y = w * 2.0f;
        }
        CHECK(tape.scope() == "model");
        const xg::Tensor z = w + 1.0f;
    }
    CHECK(tape.scope().empty());
    const xg::Tensor top = -w;
    REQUIRE(tape.size() == 3);
    CHECK(tape[0].scope == "model/dense_1");
    CHECK(tape[1].scope == "model");
    CHECK(tape[2].scope.empty());
    tape.clear();
}

TEST_CASE("accumulate sums a broadcast gradient back and rejects one that cannot be") {
    const xg::Tensor b = xg::parameter(xg::Array{1.0f, 2.0f, 3.0f}, "b");
    // An op whose rule returns the gradient in a broadcast (2, 3) shape.
    const xg::Tensor spread = xg::record_op("spread", {b}, xt::zeros<float>({2}), [](xg::GradientContext& ctx) {
        ctx.accumulate(0, xt::ones<float>({2, 3}));
    });
    xg::sum(spread).backward();
    CHECK(b.grad() == xg::Array{2.0f, 2.0f, 2.0f});

    const xg::Tensor broken = xg::record_op("broken", {b}, xt::zeros<float>({2}), [](xg::GradientContext& ctx) {
        ctx.accumulate(0, xt::ones<float>({2}));
    });
    CHECK_THROWS_WITH_AS(xg::sum(broken).backward(),
                         doctest::Contains("backward of 'broken': gradient for input 0 has shape (2,); expected (3,)"),
                         xg::ShapeError);
    // The half-walked graph is dropped, as a finished walk would drop it.
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("accumulate_part adds a part in place: onto zeros first, then onto what is there") {
    xg::Tensor x = xg::parameter(xg::Array{1.0f, 2.0f, 3.0f, 4.0f}, "x");
    // An op that reads x[k] alone, its rule adding into that element of x's gradient only.
    const auto pick = [&x](std::size_t k) {
        return xg::record_op("pick", {x}, xg::Array{x.value()(k)}, [k](xg::GradientContext& ctx) {
            ctx.accumulate_part(0, [&](float* g) { g[k] += ctx.grad()(0); });
        });
    };
    // Parts of two ops, one of them taken twice, and a whole gradient from another consumer.
    (xg::sum(pick(1) * 3.0f + pick(3) + pick(1)) + xg::sum(x * 10.0f)).backward();
    CHECK(x.grad() == xg::Array{10.0f, 14.0f, 10.0f, 11.0f});
    // A second backward without zero_grad adds onto the first, as every gradient does.
    xg::sum(pick(0)).backward();
    CHECK(x.grad() == xg::Array{11.0f, 14.0f, 10.0f, 11.0f});
    // Nothing for an input that needs no gradient.
    const xg::Tensor c = xg::constant(xg::Array{1.0f, 2.0f});
    const xg::Tensor both = xg::record_op("both", {c, x}, xg::Array{0.0f}, [](xg::GradientContext& ctx) {
        ctx.accumulate_part(0, [](float*) { FAIL("called for a constant"); });
        ctx.accumulate_part(1, [](float* g) { g[2] += 1.0f; });
    });
    x.zero_grad();
    xg::sum(both).backward();
    CHECK(x.grad() == xg::Array{0.0f, 0.0f, 1.0f, 0.0f});
    // A gradient reshaped by hand cannot take a part at the value's offsets: an error, not a guess.
    x.mutable_grad() = xt::zeros<float>({2});
    CHECK_THROWS_WITH_AS(xg::sum(pick(2)).backward(),
                         doctest::Contains("the gradient held for a value of shape (4,) has shape (2,)"), xg::ShapeError);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("a user-defined op made with record_op takes part like a library op") {
    const xg::Tensor x = xg::parameter(xg::Array{-1.0f, 0.5f, 2.0f}, "x");
    const xg::Tensor y = cube(x);
    CHECK(y.value() == xg::Array{-1.0f, 0.125f, 8.0f});
    REQUIRE(y.creator() != nullptr);
    CHECK(y.creator()->op == "cube");
    xg::sum(y).backward();
    CHECK(x.grad() == xg::Array{3.0f, 0.75f, 12.0f});

    const auto alone = xg::gradcheck([](const std::vector<xg::Tensor>& in) { return cube(in[0]); },
                                     {xg::Array{{-1.2f, 0.3f, 0.9f}, {1.1f, -0.4f, 0.7f}}});
    CHECK_MESSAGE(alone.passed, alone.report());
    const auto composed = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) { return xg::mean(cube(in[0] * in[1]) + in[1], 0); },
        {xg::Array{{-1.2f, 0.3f, 0.9f}, {1.1f, -0.4f, 0.7f}}, xg::Array{0.5f, -0.8f, 1.3f}});
    CHECK_MESSAGE(composed.passed, composed.report());
}

TEST_CASE("a user scalar op made with record_scalar_op is held inline and back-propagates through its rule") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor a = xg::Tensor::scalar(2.0f, true);
    const xg::Tensor b = xg::Tensor::scalar(-3.0f, true);
    const xg::Tensor y = mul_add(a, b);
    CHECK(y.node()->is_scalar());
    CHECK(y.role() == xg::Role::result);
    CHECK(y.requires_grad());
    CHECK(y.item() == -4.0f);
    REQUIRE(tape.size() == 1);
    const xg::Record* r = y.creator();
    REQUIRE(r == &tape[0]);
    CHECK(r->op == "mul_add");
    CHECK((r->scalar_rule == &mul_add_rule));
    CHECK_FALSE(r->array_rule);
    REQUIRE(r->inputs.size() == 2);
    CHECK(r->inputs[0] == a.node());
    CHECK(r->inputs[1] == b.node());
    CHECK(r->output == y.node_ptr());
    y.backward();
    CHECK(tape.size() == 0);
    CHECK(a.node()->grad_item() == -2.0f);
    CHECK(b.node()->grad_item() == 2.0f);

    // Composed with library ops on either side, against central differences.
    const auto result = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) { return xg::tanh(mul_add(in[0] * in[1], in[1]) * in[0]); },
        {xg::scalar_array(0.7f), xg::scalar_array(-0.4f)});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("a scalar op records nothing when no input needs a gradient or recording is off") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    SUBCASE("no input needs a gradient") {
        const xg::Tensor y = mul_add(xg::Tensor::scalar(2.0f), xg::Tensor::scalar(5.0f));
        CHECK(tape.size() == 0);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.creator() == nullptr);
        CHECK(y.node()->is_scalar());
        CHECK(y.item() == 12.0f);
        CHECK_THROWS_AS(y.backward(), xg::StateError);
    }
    SUBCASE("under NoGradGuard") {
        const xg::Tensor a = xg::Tensor::scalar(2.0f, true);
        xg::NoGradGuard no_grad;
        const xg::Tensor y = mul_add(a, a);
        const xg::Tensor z = a * a + 1.0f;
        CHECK(tape.size() == 0);
        CHECK_FALSE(y.requires_grad());
        CHECK_FALSE(z.requires_grad());
        CHECK(y.creator() == nullptr);
        CHECK(y.item() == 6.0f);
        CHECK(z.node()->is_scalar());
        CHECK(z.item() == 5.0f);
    }
    SUBCASE("one input of two needs a gradient: recorded") {
        const xg::Tensor a = xg::Tensor::scalar(2.0f);
        const xg::Tensor b = xg::Tensor::scalar(5.0f, true);
        const xg::Tensor y = mul_add(a, b);
        CHECK(tape.size() == 1);
        y.backward();
        CHECK_FALSE(a.has_grad());
        CHECK(b.node()->grad_item() == 2.0f);
    }
    tape.clear();
}

TEST_CASE("a scalar op on a result from a cleared tape is a StateError") {
    xg::Tape& tape = xg::Tape::current();
    const xg::Tensor a = xg::Tensor::scalar(2.0f, true);
    SUBCASE("cleared by hand") {
        const xg::Tensor h = mul_add(a, a);
        tape.clear();
        CHECK_THROWS_WITH_AS(mul_add(h, a),
                             doctest::Contains("mul_add: input 0 () was recorded on a tape that has since been cleared"),
                             xg::StateError);
        CHECK_THROWS_WITH_AS(a * h, doctest::Contains("mul: input 1 () was recorded on a tape that has since been cleared"),
                             xg::StateError);
    }
    SUBCASE("cleared by backward") {
        const xg::Tensor h = a * a;
        h.backward();
        CHECK_THROWS_AS(mul_add(h, a), xg::StateError);
        CHECK_THROWS_AS(xg::exp(h), xg::StateError);
        // Detached, its value is fine to use.
        const xg::Tensor y = mul_add(h.detach(), a);
        CHECK(y.item() == 12.0f);
    }
    tape.clear();
}

TEST_CASE("a scalar op takes up to kMaxScalarInputs inputs") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor a = xg::Tensor::scalar(1.0f, true);
    const xg::Tensor b = xg::Tensor::scalar(2.0f, true);
    const xg::Tensor c = xg::Tensor::scalar(3.0f, true);
    const xg::Tensor d = xg::Tensor::scalar(4.0f, true);
    static_assert(xg::kMaxScalarInputs == 4);
    // y = x0 + 2 x1 + 3 x2 + 4 x3 over four inputs, more than a record holds inline.
    const auto weighted = [](const float*, float, float g, float* dx) {
        for (int i = 0; i < 4; ++i) dx[i] = g * static_cast<float>(i + 1);
    };
    const xg::Tensor h = a * 1.0f;  // an input recorded on the same tape
    const xg::Tensor y = xg::record_scalar_op("weighted", {h, b, c, d}, 1.0f + 4.0f + 9.0f + 16.0f, weighted);
    REQUIRE(y.creator() != nullptr);
    REQUIRE(y.creator()->inputs.size() == 4);
    CHECK(y.creator()->inputs[0] == h.node());
    CHECK(y.creator()->inputs[3] == d.node());
    CHECK(y.creator()->inputs.tensor(0).node() == h.node());
    CHECK(y.creator()->inputs.tensor(2).node() == c.node());
    y.backward();
    CHECK(a.node()->grad_item() == 1.0f);
    CHECK(b.node()->grad_item() == 2.0f);
    CHECK(c.node()->grad_item() == 3.0f);
    CHECK(d.node()->grad_item() == 4.0f);

    CHECK_THROWS_WITH_AS(xg::record_scalar_op("wide", {a, b, c, d, a}, 0.0f, weighted),
                         doctest::Contains("wide: 5 inputs to a scalar op; expected at most 4"), xg::ValueError);
    CHECK(tape.size() == 0);
}

TEST_CASE("anomaly mode catches NaN in a scalar op's output and in a scalar rule's gradient") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor a = xg::Tensor::scalar(-1.0f, true);
    SUBCASE("output") {
        const xg::AnomalyDetectionGuard anomaly;
        CHECK_THROWS_WITH_AS(xg::record_scalar_op("nan_out", {a}, nan, &nan_rule),
                             doctest::Contains("anomaly: op 'nan_out' produced NaN or Inf in its output ()"),
                             xg::NumericError);
        CHECK_THROWS_WITH_AS(xg::log(a), doctest::Contains("anomaly: op 'log' produced NaN or Inf in its output ()"),
                             xg::NumericError);
        xg::ScopeGuard scope("block");
        CHECK_THROWS_WITH_AS(xg::sqrt(a), doctest::Contains("anomaly: op 'sqrt' in block produced NaN or Inf"),
                             xg::NumericError);
    }
    SUBCASE("gradient") {
        const xg::Tensor h = a * 2.0f;
        const xg::Tensor y = xg::record_scalar_op("nan_grad", {h}, 1.0f, &nan_rule) * 3.0f;
        const xg::AnomalyDetectionGuard anomaly;
        CHECK_THROWS_WITH_AS(y.backward(),
                             doctest::Contains("anomaly: backward of op 'nan_grad' produced NaN or Inf in the gradient "
                                               "of input 0 ()"),
                             xg::NumericError);
        // The half-walked graph is dropped, as a finished walk would drop it.
        CHECK(tape.size() == 0);
    }
    SUBCASE("without anomaly mode the NaN goes through unnoticed") {
        const xg::Tensor y = xg::record_scalar_op("nan_grad", {a}, 1.0f, &nan_rule);
        y.backward();
        CHECK(std::isnan(a.node()->grad_item()));
    }
    tape.clear();
}

TEST_CASE("retain_graph keeps a scalar graph for a second backward, and its gradients add up") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor a = xg::Tensor::scalar(2.0f, true);
    const xg::Tensor b = xg::Tensor::scalar(-3.0f, true);
    xg::Tensor h = mul_add(a, b);
    const xg::Tensor y = h * a;  // y = a^2 b + a^2: dy/da = 2ab + 2a = -8, dy/db = a^2 = 4, dy/dh = a = 2
    REQUIRE((y.creator()->scalar_rule != nullptr));
    SUBCASE("twice") {
        y.backward(true);
        CHECK(tape.size() == 2);
        CHECK(a.node()->grad_item() == -8.0f);
        CHECK(b.node()->grad_item() == 4.0f);
        CHECK_FALSE(h.has_grad());
        y.backward();
        CHECK(tape.size() == 0);
        CHECK(a.node()->grad_item() == -16.0f);
        CHECK(b.node()->grad_item() == 8.0f);
    }
    SUBCASE("twice, with the intermediate's gradient retained") {
        h.retain_grad();
        y.backward(true);
        REQUIRE(h.has_grad());
        CHECK(h.node()->grad_item() == 2.0f);
        y.backward();
        CHECK(h.node()->grad_item() == 4.0f);
        CHECK(h.grad().shape() == xg::Shape{});
        CHECK(h.grad()() == 4.0f);
        CHECK(a.node()->grad_item() == -16.0f);
        CHECK(b.node()->grad_item() == 8.0f);
    }
}

TEST_CASE("backward frees each record of a scalar graph as it is used, unless retain_graph") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    tape_sizes_seen.clear();
    const xg::Tensor x = xg::Tensor::scalar(1.0f, true);
    xg::Tensor y = x;
    for (int i = 0; i < 3; ++i) y = xg::record_scalar_op("count", {y}, y.item(), &counting_rule);
    // A record newer than the root is not walked, and is dropped with the rest.
    const xg::Tensor later = xg::record_scalar_op("count", {y}, y.item(), &counting_rule);
    REQUIRE(tape.size() == 4);

    SUBCASE("freed as used") {
        y.backward();
        CHECK(tape_sizes_seen == std::vector<std::size_t>{3, 2, 1});
        CHECK(tape.size() == 0);
    }
    SUBCASE("kept with retain_graph") {
        y.backward(true);
        CHECK(tape_sizes_seen == std::vector<std::size_t>{4, 4, 4});
        CHECK(tape.size() == 4);
        tape.clear();
    }
    CHECK(x.node()->grad_item() == 1.0f);
}

TEST_CASE("RecordInputs::tensor gives an owning handle, even to an input held without ownership") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor a = xg::Tensor::scalar(1.5f, true);
    xg::Tensor held_input, held_leaf;
    xg::detail::Node* input_node = nullptr;
    {
        const xg::Tensor h = a * 2.0f;  // recorded on this tape: its consumer holds it without ownership
        const xg::Tensor y = mul_add(h, a);
        const xg::Record* r = y.creator();
        REQUIRE(r != nullptr);
        CHECK(r->inputs[0] == h.node());
        held_input = r->inputs.tensor(0);
        held_leaf = r->inputs.tensor(1);
        input_node = h.node();
    }
    CHECK(held_input.node() == input_node);
    CHECK(held_leaf.node() == a.node());
    tape.clear();
    // Nothing but the handle keeps the input's node alive now.
    CHECK(held_input.node_ptr().use_count() == 1);
    for (int i = 0; i < 8; ++i) CHECK(xg::Tensor::scalar(-7.0f).item() == -7.0f);  // reuse freed blocks
    CHECK(held_input.node()->is_scalar());
    CHECK(held_input.item() == 3.0f);
    CHECK(held_input.role() == xg::Role::result);
    CHECK(held_leaf.item() == 1.5f);
}

TEST_CASE("a 100-op scalar chain frees every node it made once backward is done") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const long start = xg::detail::live_node_count();
    {
        const xg::Tensor x = xg::Tensor::scalar(0.3f, true);
        {
            xg::Tensor y = x;
            for (int i = 0; i < 100; ++i) y = xg::tanh(y * 0.9f + x);
            CHECK(tape.size() == 300);
            CHECK(y.node()->is_scalar());
            y.backward();
            CHECK(tape.size() == 0);
            CHECK(xg::detail::live_node_count() == start + 2);  // x and y

            // The same chain on the array path, for the gradient.
            const xg::Tensor xa = xg::parameter(xg::Array{0.3f}, "x");
            xg::Tensor ya = xa;
            for (int i = 0; i < 100; ++i) ya = xg::tanh(ya * 0.9f + xa);
            CHECK(y.item() == doctest::Approx(ya.item()).epsilon(1e-5));
            ya.backward(xg::Array{1.0f});
            CHECK(x.node()->grad_item() == doctest::Approx(xa.grad()(0)).epsilon(1e-5));
        }
        CHECK(xg::detail::live_node_count() == start + 1);
    }
    CHECK(xg::detail::live_node_count() == start);
}

TEST_CASE("mutable_value on a scalar leaf works around forward and backward") {
    xg::Tape::current().clear();
    xg::Tensor w = xg::Tensor::scalar(2.0f, true);
    SUBCASE("an update after backward, then another step") {
        (w * w).backward();
        CHECK(w.node()->grad_item() == 4.0f);
        w.mutable_value()() -= 0.1f * w.grad()();
        CHECK(w.item() == doctest::Approx(1.6f));
        CHECK(w.value().dimension() == 0);
        w.zero_grad();
        const xg::Tensor y = w * w + w;
        CHECK(y.item() == doctest::Approx(1.6f * 1.6f + 1.6f));
        y.backward();
        CHECK(w.node()->grad_item() == doctest::Approx(2.0f * 1.6f + 1.0f));
        CHECK(w.grad()() == doctest::Approx(2.0f * 1.6f + 1.0f));
    }
    SUBCASE("asked for between forward and backward") {
        const xg::Tensor y = w * w;
        REQUIRE((y.creator()->scalar_rule != nullptr));
        xg::Array& value = w.mutable_value();
        CHECK(value() == 2.0f);
        y.backward();
        CHECK(w.node()->grad_item() == 4.0f);
        CHECK(w.item() == 2.0f);
    }
}

TEST_CASE("records keep op names and scopes made at run time after the strings they came from are gone") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    const xg::Tensor s = xg::Tensor::scalar(2.0f, true);
    const auto twice = [](xg::GradientContext& ctx) { ctx.accumulate(0, 2.0f * ctx.grad()); };
    {
        // Longer than any small-string buffer, so the characters live on the heap and are freed.
        std::string op = "an_op_named_at_run_time_number_" + std::to_string(7);
        std::string scope = "a_scope_named_at_run_time_number_" + std::to_string(3);
        const xg::ScopeGuard guard(scope);
        xg::record_op(op, {w}, w.value() * 2.0f, twice);
        xg::record_op(op, {w}, w.value() * 2.0f, twice);
        const xg::Tensor y = s * s;  // the scalar path, in the same scope
        op.assign(op.size(), 'x');
        scope.assign(scope.size(), 'x');
    }
    const std::vector<std::string> reuse(32, std::string(40, 'z'));
    REQUIRE(tape.size() == 3);
    CHECK(tape[0].op == "an_op_named_at_run_time_number_7");
    CHECK(tape[0].scope == "a_scope_named_at_run_time_number_3");
    // One copy of a name, however many records carry it.
    CHECK(tape[1].op.data() == tape[0].op.data());
    CHECK(tape[2].op == "mul");
    CHECK(tape[2].scope == "a_scope_named_at_run_time_number_3");
    tape.clear();
}

TEST_CASE("record_scalar_op rejects a missing rule, empty handles and inputs that are not inline scalars") {
    xg::Tape::current().clear();
    const xg::Tensor a = xg::Tensor::scalar(1.0f, true);
    CHECK_THROWS_WITH_AS(xg::record_scalar_op("f", {a}, 1.0f, nullptr),
                         doctest::Contains("f: the scalar op has no gradient rule"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::record_scalar_op("f", {a, xg::Tensor()}, 1.0f, &mul_add_rule),
                         doctest::Contains("f: input 1 is an empty tensor handle"), xg::StateError);
    const xg::Tensor v = xg::parameter(xg::Array{1.0f}, "v");
    CHECK_THROWS_WITH_AS(xg::record_scalar_op("f", {a, v}, 1.0f, &mul_add_rule),
                         doctest::Contains("f: input 1 has shape (1,); a scalar op expects 0-d inputs"), xg::ShapeError);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("a gradient rule that calls an op does not record on the tape being walked") {
    xg::Tape::current().clear();
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    std::size_t size_during_rule = 0;
    bool recorded_during_rule = true;
    const xg::Tensor y = xg::record_op("twice", {w}, xg::Array(2.0f * w.value()), [&](xg::GradientContext& ctx) {
        const xg::Tensor doubled = xg::mul(w, xg::Tensor::scalar(2.0f));
        recorded_during_rule = doubled.creator() != nullptr;
        size_during_rule = xg::Tape::current().size();
        ctx.accumulate(0, xg::Array(2.0f * ctx.grad()));
    });
    xg::sum(y).backward();
    CHECK_FALSE(recorded_during_rule);
    CHECK(size_during_rule == 1);  // the sum's record was freed, the rule's own is still there
    CHECK(w.grad() == xg::Array{2.0f, 2.0f});
}
