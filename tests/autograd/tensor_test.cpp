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

TEST_CASE("every call on an empty handle throws StateError") {
    const xg::Tensor empty;
    xg::Tensor mutable_empty;
    CHECK_THROWS_AS(empty.value(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.mutable_value(), xg::StateError);
    CHECK_THROWS_AS(empty.shape(), xg::StateError);
    CHECK_THROWS_AS(empty.rank(), xg::StateError);
    CHECK_THROWS_AS(empty.size(), xg::StateError);
    CHECK_THROWS_AS(empty.item(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.set_item(1.0f), xg::StateError);
    CHECK_THROWS_AS(empty.requires_grad(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.set_requires_grad(true), xg::StateError);
    CHECK_THROWS_AS(empty.has_grad(), xg::StateError);
    CHECK_THROWS_AS(empty.grad(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.mutable_grad(), xg::StateError);
    CHECK_THROWS_AS(empty.grad_item(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.set_grad(xg::scalar_array(1.0f)), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.zero_grad(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.retain_grad(), xg::StateError);
    CHECK_THROWS_AS(empty.role(), xg::StateError);
    CHECK_THROWS_AS(empty.name(), xg::StateError);
    CHECK_THROWS_AS(mutable_empty.set_name("x"), xg::StateError);
    CHECK_THROWS_AS(empty.detach(), xg::StateError);
    CHECK_THROWS_WITH_AS(empty.backward(), doctest::Contains("empty tensor handle"), xg::StateError);
    CHECK_THROWS_AS(empty.backward(xg::Array(xt::ones<float>({1}))), xg::StateError);
    CHECK_THROWS_AS(empty.creator(), xg::StateError);
    // The handle's own bookkeeping stays usable.
    CHECK_FALSE(empty.defined());
    CHECK(empty.node() == nullptr);
    CHECK(empty.node_ptr() == nullptr);
}

TEST_CASE("set_item changes a one-element value in place, keeping an inline scalar inline") {
    xg::Tensor w = xg::Tensor::scalar(2.0f, true);
    const xg::Tensor alias = w;
    w.set_item(-0.5f);
    CHECK(alias.item() == -0.5f);
    CHECK(w.node()->is_scalar());
    xg::Tensor one(xg::Array(xt::xarray<float>{3.0f}), true);
    one.set_item(4.0f);
    CHECK(one.value()(0) == 4.0f);
    xg::Tensor two(xg::Array(xt::xarray<float>{1.0f, 2.0f}), true);
    CHECK_THROWS_WITH_AS(two.set_item(1.0f), doctest::Contains("has shape (2,); expected exactly one element"),
                         xg::ShapeError);
}

TEST_CASE("grad_item and set_grad read and replace the gradient through the handle") {
    xg::Tensor w = xg::Tensor::scalar(3.0f, true);
    CHECK_THROWS_AS(w.grad_item(), xg::StateError);  // no backward yet
    xg::mul(w, w).backward();
    CHECK(w.grad_item() == 6.0f);
    w.set_grad(xg::scalar_array(0.25f));
    CHECK(w.grad_item() == 0.25f);
    CHECK(w.node()->is_scalar());

    xg::Tensor v(xg::Array(xt::xarray<float>{1.0f, 2.0f}), true);
    v.set_grad(xg::Array(xt::xarray<float>{0.5f, -1.0f}));
    CHECK(v.grad()(1) == -1.0f);
    CHECK_THROWS_WITH_AS(v.grad_item(), doctest::Contains("expected exactly one element"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(v.set_grad(xg::Array(xt::xarray<float>{1.0f, 2.0f, 3.0f})),
                         doctest::Contains("set_grad: gradient of '' has shape (3,); expected the tensor's shape (2,)"),
                         xg::ShapeError);
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
    CHECK(r->attributes().to_string() == "axis=1, keepdims");
    REQUIRE(r->inputs.size() == 1);
    CHECK(r->inputs[0] == w.node());
    CHECK(r->output == y.node_ptr());
    xg::Tape::current().clear();
    CHECK(y.creator() == nullptr);
}

TEST_CASE("live_node_count follows tensors being made and dropped") {
    const long before = xg::detail::live_node_count();
    {
        const xg::Tensor a(xt::ones<float>({2}));
        const xg::Tensor b = a;
        CHECK(xg::detail::live_node_count() == before + 1);
    }
    CHECK(xg::detail::live_node_count() == before);
}

TEST_CASE("Tensor::scalar holds its value inline: 0-d, item and shape read it as it is") {
    const xg::Tensor s = xg::Tensor::scalar(-1.5f, true);
    const xg::detail::Node& n = *s.node();
    CHECK(n.is_scalar());
    CHECK(n.item() == -1.5f);
    CHECK(n.shape() == xg::Shape{});
    CHECK(n.size() == 1);
    CHECK(s.shape() == xg::Shape{});
    CHECK(s.item() == -1.5f);
    CHECK(s.role() == xg::Role::parameter);
    CHECK_FALSE(n.has_grad());
    // Reading it leaves it inline.
    CHECK(n.is_scalar());
    CHECK(xg::Tensor::scalar(2.0f).role() == xg::Role::input);
    CHECK_FALSE(xg::Tensor::scalar(2.0f).requires_grad());
}

TEST_CASE("value() of an inline scalar is a 0-d Array with the value, and it stays inline") {
    const xg::Tensor s = xg::Tensor::scalar(3.5f);
    const xg::Array& v = s.value();
    CHECK(v.dimension() == 0);
    CHECK(v.shape() == xg::Shape{});
    CHECK(v() == 3.5f);
    CHECK(&s.value() == &v);
    CHECK(s.node()->is_scalar());

    const xg::Tensor w = xg::Tensor::scalar(2.0f, true);
    const xg::Tensor y = w * 3.0f;
    REQUIRE(y.node()->is_scalar());
    CHECK(y.value().dimension() == 0);
    CHECK(y.value()() == 6.0f);
    xg::Tape::current().clear();
}

TEST_CASE("a 0-d Array given to a Tensor is held inline, an Array of shape (1,) is not") {
    const xg::Tensor zero_d = xg::parameter(xg::scalar_array(0.5f), "s");
    CHECK(zero_d.node()->is_scalar());
    CHECK(zero_d.item() == 0.5f);
    const xg::Tensor one = xg::parameter(xg::Array{0.5f}, "v");
    CHECK_FALSE(one.node()->is_scalar());
    CHECK(one.shape() == xg::Shape{1});
    CHECK(one.item() == 0.5f);
}

TEST_CASE("mutable_value of a scalar makes its Array the value, read back by item and value") {
    xg::Tensor s = xg::Tensor::scalar(1.0f, true);
    xg::Array& v = s.mutable_value();
    CHECK_FALSE(s.node()->is_scalar());
    CHECK(v.dimension() == 0);
    v() = 4.0f;
    CHECK(s.item() == 4.0f);
    CHECK(s.value()() == 4.0f);
    CHECK(s.shape() == xg::Shape{});
    CHECK(s.size() == 1);
}

TEST_CASE("detach of a scalar is a new inline scalar leaf") {
    xg::Tape::current().clear();
    const xg::Tensor w = xg::Tensor::scalar(2.0f, true);
    w.node()->set_name("w");
    for (const xg::Tensor& source : {w, w * 3.0f}) {
        const xg::Tensor d = source.detach();
        CHECK(d.node() != source.node());
        CHECK(d.node()->is_scalar());
        CHECK(d.item() == source.item());
        CHECK(d.role() == xg::Role::input);
        CHECK_FALSE(d.requires_grad());
        CHECK(d.creator() == nullptr);
        CHECK(d.name() == source.name());
    }
    // A scalar whose value was made an Array detaches to an inline scalar too.
    xg::Tensor changed = xg::Tensor::scalar(5.0f, true);
    changed.mutable_value()() = 6.0f;
    const xg::Tensor d = changed.detach();
    CHECK(d.node()->is_scalar());
    CHECK(d.item() == 6.0f);
    xg::Tape::current().clear();
}

TEST_CASE("the gradient of a scalar leaf is a 0-d Array equal to grad_item, accumulated across backward calls") {
    xg::Tensor w = xg::Tensor::scalar(3.0f, true);
    (w * w).backward();
    REQUIRE(w.has_grad());
    const xg::Array& g = w.grad();
    CHECK(g.dimension() == 0);
    CHECK(g.shape() == xg::Shape{});
    CHECK(g() == 6.0f);
    CHECK(w.node()->grad_item() == g());

    // A second backward adds to it; grad() and grad_item agree on the sum.
    (w * 2.0f).backward();
    CHECK(w.node()->grad_item() == 8.0f);
    CHECK(w.grad()() == 8.0f);

    // Changed through mutable_grad, the change is what grad_item reads.
    w.mutable_grad()() = 0.5f;
    CHECK(w.node()->grad_item() == 0.5f);
    (w * 2.0f).backward();
    CHECK(w.node()->grad_item() == 2.5f);
    CHECK(w.grad()() == 2.5f);

    w.zero_grad();
    CHECK_FALSE(w.has_grad());
    (w * 4.0f).backward();
    CHECK(w.grad()() == 4.0f);
    CHECK(w.node()->grad_item() == 4.0f);
}

TEST_CASE("Node gradient calls on a 0-d value: set_grad, add_grad of a float or a 0-d Array, drop_grad") {
    const xg::Tensor s = xg::Tensor::scalar(1.0f, true);
    xg::detail::Node& n = *s.node();
    n.add_grad(0.25f);
    CHECK(n.has_grad());
    CHECK(n.grad_item() == 0.25f);
    n.add_grad(xg::scalar_array(1.0f));
    CHECK(n.grad_item() == 1.25f);
    CHECK(std::as_const(n).grad()() == 1.25f);
    n.add_grad(0.75f);
    CHECK(std::as_const(n).grad()() == 2.0f);
    n.set_grad(xg::scalar_array(-3.0f));
    CHECK(n.grad_item() == -3.0f);
    CHECK(std::as_const(n).grad()() == -3.0f);
    n.drop_grad();
    CHECK_FALSE(n.has_grad());
    n.add_grad(xg::scalar_array(2.0f));
    CHECK(n.grad_item() == 2.0f);

    // A gradient of more than one element has no single item, and takes no float.
    const xg::Tensor v = xg::parameter(xg::Array{1.0f, 2.0f}, "v");
    xg::detail::Node& m = *v.node();
    m.set_grad(xg::Array{1.0f, 1.0f});
    CHECK_THROWS_WITH_AS(m.grad_item(), doctest::Contains("item: tensor's gradient has shape (2,)"), xg::ShapeError);
    CHECK_THROWS_AS(m.add_grad(1.0f), xg::ShapeError);
}
