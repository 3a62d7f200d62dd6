#include "xgrad/autograd/tensor.hpp"

#include <atomic>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {
std::atomic<long> live_nodes{0};
}

Node::Node(Array v, Role r, bool needs_grad) : value(std::move(v)), requires_grad(needs_grad), role(r) {
    live_nodes.fetch_add(1, std::memory_order_relaxed);
}
Node::~Node() { live_nodes.fetch_sub(1, std::memory_order_relaxed); }

void Node::set_grad(Array g) {
    if (grad_) {
        *grad_ = std::move(g);
    } else {
        grad_ = make_pooled<Array>(std::move(g));
    }
}

void Node::add_grad(Array g) {
    if (!grad_) {
        grad_ = make_pooled<Array>(std::move(g));
        return;
    }
    if (grad_->shape() != g.shape()) {  // a gradient set by hand; let xtensor check the shapes
        *grad_ += g;
        return;
    }
    // Fan-out: a second consumer's share is added in place.
    float* sum = grad_->data();
    const float* share = g.data();
    for (std::size_t k = 0, n = g.size(); k < n; ++k) sum[k] += share[k];
}

long live_node_count() { return live_nodes.load(std::memory_order_relaxed); }

std::shared_ptr<Node> make_node(Array value, Role role, bool needs_grad) {
    return std::allocate_shared<Node>(PoolAllocator<Node>(), std::move(value), role, needs_grad);
}

Tensor::Tensor(Array value, bool requires_grad)
    : node_(make_node(std::move(value), requires_grad ? Role::parameter : Role::input, requires_grad)) {}

Tensor Tensor::scalar(float value, bool requires_grad) { return Tensor(scalar_array(value), requires_grad); }

Node& Tensor::checked() const {
    if (!node_) throw StateError("Tensor: used an empty tensor handle; expected one made from a value or an op");
    return *node_;
}

const Array& Tensor::value() const { return checked().value; }
Array& Tensor::mutable_value() { return checked().value; }

float Tensor::item() const {
    const Array& v = value();
    if (v.size() != 1) {
        throw ShapeError(fmt::format("item: tensor has shape {}; expected exactly one element", format_shape(v.shape())));
    }
    return *v.data();
}

bool Tensor::requires_grad() const { return checked().requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
    Node& n = checked();
    if (n.role == Role::result) {
        throw StateError("set_requires_grad: tensor is an op result; expected a leaf (use detach() first)");
    }
    n.requires_grad = on;
    if (on && n.role != Role::parameter) n.role = Role::parameter;
    return *this;
}

bool Tensor::has_grad() const { return checked().has_grad(); }

const Array& Tensor::grad() const {
    const Node& n = checked();
    if (!n.has_grad()) {
        throw StateError(fmt::format("grad: tensor '{}' {} has no gradient; expected backward() to reach it first",
                                     n.name, format_shape(n.value.shape())));
    }
    return n.grad();
}

Array& Tensor::mutable_grad() {
    grad();
    return node_->grad();
}

void Tensor::zero_grad() {
    Node& n = checked();
    n.drop_grad();
}

void Tensor::retain_grad() { checked().retains_grad = true; }

Role Tensor::role() const { return checked().role; }
const std::string& Tensor::name() const { return checked().name; }

Tensor& Tensor::set_name(std::string name) {
    checked().name = std::move(name);
    return *this;
}

Tensor Tensor::detach() const {
    Tensor t(Array(value()), false);
    t.node_->name = checked().name;
    return t;
}

void Tensor::backward(bool retain_graph) const { run_backward(*this, nullptr, retain_graph); }
void Tensor::backward(const Array& seed, bool retain_graph) const { run_backward(*this, &seed, retain_graph); }

const Record* Tensor::creator() const {
    const Node& n = checked();
    const Tape& tape = Tape::current();
    if (n.role != Role::result || !tape.holds(n)) return nullptr;
    return &tape[n.record];
}

Tensor parameter(Array value, std::string name) {
    Tensor t(std::move(value), true);
    t.set_name(std::move(name));
    return t;
}

Tensor input(Array value, std::string name) {
    Tensor t(std::move(value), false);
    t.set_name(std::move(name));
    return t;
}

Tensor constant(Array value) {
    return Tensor(make_node(std::move(value), Role::constant, false));
}

}  // namespace xg
