#include "xgrad/autograd/tensor.hpp"

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("leaves know their role and whether they need a gradient") {
    const xg::Tensor w = xg::parameter(xt::ones<float>({2, 3}), "kernel");
    CHECK(w.role() == xg::Role::parameter);
    CHECK(w.requires_grad());
    CHECK(w.name() == "kernel");
    CHECK(w.shape() == xg::Shape{2, 3});
    CHECK(w.rank() == 2);
    CHECK(w.size() == 6);

    const xg::Tensor x = xg::input(xt::zeros<float>({4}));
    CHECK(x.role() == xg::Role::input);
    CHECK_FALSE(x.requires_grad());
    CHECK(x.name() == "input");

    const xg::Tensor c = xg::constant(xg::scalar_array(3.0f));
    CHECK(c.role() == xg::Role::constant);
    CHECK_FALSE(c.requires_grad());

    CHECK(xg::Tensor(xt::ones<float>({2}), true).role() == xg::Role::parameter);
    CHECK(xg::Tensor(xt::ones<float>({2})).role() == xg::Role::input);
}

TEST_CASE("scalar tensors are 0-d and item reads them") {
    const xg::Tensor s = xg::Tensor::scalar(-4.0f, true);
    CHECK(s.rank() == 0);
    CHECK(s.size() == 1);
    CHECK(s.item() == -4.0f);
    CHECK(s.requires_grad());
    CHECK(xg::Tensor(xg::Array{2.5f}).item() == 2.5f);
    CHECK_THROWS_WITH_AS(xg::Tensor(xt::ones<float>({2, 3})).item(),
                         doctest::Contains("item: tensor has shape (2, 3); expected exactly one element"), xg::ShapeError);
}

TEST_CASE("an empty handle throws StateError instead of crashing") {
    const xg::Tensor empty;
    CHECK_FALSE(empty.defined());
    CHECK_THROWS_AS(empty.value(), xg::StateError);
    CHECK_THROWS_AS(empty.requires_grad(), xg::StateError);
    CHECK_THROWS_AS(xg::relu(empty), xg::StateError);
}

TEST_CASE("copies of a tensor share one node") {
    xg::Tensor a = xg::parameter(xt::zeros<float>({3}), "a");
    xg::Tensor b = a;
    b.mutable_value()(1) = 5.0f;
    CHECK(a.value()(1) == 5.0f);
    CHECK(a.node() == b.node());
}

TEST_CASE("set_requires_grad works on leaves only") {
    xg::Tensor x = xg::input(xt::ones<float>({2}));
    x.set_requires_grad(true);
    CHECK(x.requires_grad());
    CHECK(x.role() == xg::Role::parameter);
    x.set_requires_grad(false);
    CHECK_FALSE(x.requires_grad());

    const xg::Tensor w = xg::parameter(xt::ones<float>({2}), "w");
    xg::Tensor y = w * 2.0f;
    CHECK(y.role() == xg::Role::result);
    CHECK_THROWS_AS(y.set_requires_grad(false), xg::StateError);
    xg::Tape::current().clear();
}

TEST_CASE("grad is an error before backward and after zero_grad") {
    xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    CHECK_FALSE(w.has_grad());
    CHECK_THROWS_WITH_AS(w.grad(), doctest::Contains("grad: tensor 'w' (2,) has no gradient"), xg::StateError);
    CHECK_THROWS_AS(w.mutable_grad(), xg::StateError);

    xg::sum(w * w).backward();
    REQUIRE(w.has_grad());
    CHECK(w.grad() == xg::Array{2.0f, 4.0f});
    w.mutable_grad() *= 0.5f;
    CHECK(w.grad() == xg::Array{1.0f, 2.0f});

    w.zero_grad();
    CHECK_FALSE(w.has_grad());
    CHECK_THROWS_AS(w.grad(), xg::StateError);
    xg::sum(w * 3.0f).backward();
    CHECK(w.grad() == xg::Array{3.0f, 3.0f});
}

TEST_CASE("detach copies the value into a new leaf without history") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    const xg::Tensor y = w * 3.0f;
    const xg::Tensor d = y.detach();
    CHECK(d.role() == xg::Role::input);
    CHECK_FALSE(d.requires_grad());
    CHECK(d.value() == y.value());
    CHECK(d.node() != y.node());
    CHECK(d.creator() == nullptr);
    xg::Tape::current().clear();
}

TEST_CASE("creator names the record that produced a result") {
    xg::Tape::current().clear();
    const xg::Tensor w = xg::parameter(xt::ones<float>({2, 3}), "w");
    CHECK(w.creator() == nullptr);
    const xg::Tensor y = xg::sum(w, 1, true);
    const xg::Record* r = y.creator();
    REQUIRE(r != nullptr);
    CHECK(r->op == "sum");
    CHECK(r->attributes == "axis=1, keepdims");
    REQUIRE(r->inputs.size() == 1);
    CHECK(r->inputs[0] == w.node());
    CHECK(r->output == y.node_ptr());
    xg::Tape::current().clear();
    CHECK(y.creator() == nullptr);
}

TEST_CASE("live_node_count follows tensors being made and dropped") {
    const long before = xg::live_node_count();
    {
        const xg::Tensor a(xt::ones<float>({2}));
        const xg::Tensor b = a;
        CHECK(xg::live_node_count() == before + 1);
    }
    CHECK(xg::live_node_count() == before);
}
