#include "xgrad/autograd/tensor.hpp"

#include <atomic>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "xgrad/autograd/detail/backward.hpp"
#include "xgrad/autograd/detail/node.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace detail {
namespace {

// live_node_count() is read rarely (tests, diagnostics), but nodes are made and freed once per op:
// each thread counts in its own slot with plain stores (a locked add per node is a measurable part
// of a scalar op), and the reader sums the slots. A node freed on another thread than the one that
// made it leaves one slot up and the other down; the sum is still right.
struct NodeCounter {
    std::atomic<long> count{0};  // written only by its thread; atomic so that readers may sum it
    NodeCounter();
    ~NodeCounter();
};

std::mutex counters_mutex;
std::vector<NodeCounter*> live_counters;  // one per thread that made or freed a node
std::atomic<long> retired_count{0};       // left by exited threads, and by nodes freed after their exit

constinit thread_local NodeCounter* this_thread_counter = nullptr;
constinit thread_local bool counter_destroyed = false;

NodeCounter::NodeCounter() {
    std::lock_guard lock(counters_mutex);
    live_counters.push_back(this);
    this_thread_counter = this;
}

NodeCounter::~NodeCounter() {
    std::lock_guard lock(counters_mutex);
    retired_count.fetch_add(count.load(std::memory_order_relaxed), std::memory_order_relaxed);
    std::erase(live_counters, this);
    this_thread_counter = nullptr;
    counter_destroyed = true;
}

void count_nodes(long change) {
    NodeCounter* c = this_thread_counter;
    if (!c && !counter_destroyed) {
        thread_local NodeCounter counter;
        c = &counter;
    }
    if (c) {
        c->count.store(c->count.load(std::memory_order_relaxed) + change, std::memory_order_relaxed);
    } else {
        retired_count.fetch_add(change, std::memory_order_relaxed);
    }
}

}  // namespace

Node::Node(Array v, Role r, bool needs_grad) : requires_grad(needs_grad), role(r) {
    value_.assign(std::move(v));
    count_nodes(1);
}
Node::Node(float v, Role r, bool needs_grad) : requires_grad(needs_grad), role(r), value_(v) {
    count_nodes(1);
}
Node::~Node() { count_nodes(-1); }

const std::string& Node::name() const {
    static const std::string unnamed;
    return extra_ ? extra_->name : unnamed;
}

void Node::set_name(std::string name) {
    if (extra_) {
        extra_->name = std::move(name);
    } else if (!name.empty()) {
        extra_ = make_pooled<Extra>(Extra{std::move(name), nullptr});
    }
}

std::shared_ptr<Node> Node::grad_graph() const { return extra_ ? extra_->grad_graph : nullptr; }

void Node::set_grad_graph(std::shared_ptr<Node> g) {
    if (extra_) {
        extra_->grad_graph = std::move(g);
    } else if (g) {
        extra_ = make_pooled<Extra>(Extra{std::string(), std::move(g)});
    }
}

float Node::array_item(const Storage& s, const char* what) {
    const Array& a = s.array();
    if (a.size() != 1) {
        throw ShapeError(fmt::format("item: tensor{} has shape {}; expected exactly one element", what, format_shape(a.shape())));
    }
    return *a.data();
}

void Node::add_grad(Array g) {
    // A gradient recorded by an earlier backward(create_graph=true) no longer equals the sum.
    forget_recorded_grad();
    if (g.dimension() == 0 && (grad_.empty() || grad_.is_scalar())) {
        grad_.add(*g.data());
        return;
    }
    if (grad_.empty()) {
        grad_.assign(std::move(g));
        return;
    }
    Array& sum = grad_.mutable_array();
    if (sum.shape() != g.shape()) {  // a gradient set by hand; let xtensor check the shapes
        sum += g;
        return;
    }
    // Fan-out: a second consumer's share is added in place.
    float* total = sum.data();
    const float* share = g.data();
    for (std::size_t k = 0, n = g.size(); k < n; ++k) total[k] += share[k];
}

Array& Node::grad_to_add_into() {
    forget_recorded_grad();
    if (grad_.empty()) {
        Array whole = uninitialized(shape());
        std::fill(whole.begin(), whole.end(), 0.0f);
        grad_.assign(std::move(whole));
    } else if (grad_.array().shape() != shape()) {  // only a gradient set by hand can differ
        throw ShapeError(fmt::format("backward: the gradient held for a value of shape {} has shape {}; expected the value's",
                                     format_shape(shape()), format_shape(grad_.array().shape())));
    }
    return grad_.mutable_array();
}

long live_node_count() {
    std::lock_guard lock(counters_mutex);
    long total = retired_count.load(std::memory_order_relaxed);
    for (const NodeCounter* c : live_counters) total += c->count.load(std::memory_order_relaxed);
    return total;
}

std::shared_ptr<Node> make_node(Array value, Role role, bool needs_grad) {
    return std::allocate_shared<Node>(PoolAllocator<Node>(), std::move(value), role, needs_grad);
}

std::shared_ptr<Node> make_node(float value, Role role, bool needs_grad) {
    return std::allocate_shared<Node>(PoolAllocator<Node>(), value, role, needs_grad);
}

}  // namespace detail

using detail::make_node;
using detail::Node;

Tensor::Tensor(Array value, bool requires_grad)
    : node_(make_node(std::move(value), requires_grad ? Role::parameter : Role::input, requires_grad)) {}

Tensor Tensor::scalar(float value, bool requires_grad) {
    return Tensor(make_node(value, requires_grad ? Role::parameter : Role::input, requires_grad));
}

Node& Tensor::checked() const {
    if (!node_) throw StateError("Tensor: used an empty tensor handle; expected one made from a value or an op");
    return *node_;
}

const Array& Tensor::value() const { return checked().value(); }
Array& Tensor::mutable_value() { return checked().mutable_value(); }
const Shape& Tensor::shape() const { return checked().shape(); }
std::size_t Tensor::size() const { return checked().size(); }
float Tensor::item() const { return checked().item(); }

void Tensor::set_item(float value) {
    Node& n = checked();
    if (n.is_scalar()) {
        n.set_scalar(value);
        return;
    }
    Array& a = n.mutable_value();
    if (a.size() != 1) {
        throw ShapeError(fmt::format("set_item: tensor '{}' has shape {}; expected exactly one element", n.name(),
                                     format_shape(a.shape())));
    }
    *a.data() = value;
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
                                     n.name(), format_shape(n.shape())));
    }
    return n.grad();
}

Array& Tensor::mutable_grad() {
    grad();
    return node_->grad();
}

float Tensor::grad_item() const {
    grad();
    return node_->grad_item();
}

void Tensor::set_grad(Array grad) {
    Node& n = checked();
    if (grad.shape() != n.shape()) {
        throw ShapeError(fmt::format("set_grad: gradient of '{}' has shape {}; expected the tensor's shape {}", n.name(),
                                     format_shape(grad.shape()), format_shape(n.shape())));
    }
    n.set_grad(std::move(grad));
}

Tensor Tensor::grad_tensor() const {
    const Node& n = checked();
    if (std::shared_ptr<Node> g = n.grad_graph()) return Tensor(std::move(g));
    return constant(Array(grad()));
}

void Tensor::zero_grad() {
    Node& n = checked();
    n.drop_grad();
    n.set_grad_graph(nullptr);
}

void Tensor::retain_grad() { checked().retains_grad = true; }

Role Tensor::role() const { return checked().role; }
const std::string& Tensor::name() const { return checked().name(); }

Tensor& Tensor::set_name(std::string name) {
    checked().set_name(std::move(name));
    return *this;
}

Tensor Tensor::detach() const {
    const Node& n = checked();
    Tensor t(n.is_scalar() ? make_node(n.item(), Role::input, false) : make_node(Array(n.value()), Role::input, false));
    t.node_->set_name(n.name());
    return t;
}

void Tensor::backward(bool retain_graph, bool create_graph) const {
    checked();
    if (create_graph) {
        detail::backward_with_graph(*this, nullptr);
    } else {
        detail::run_backward(*this, nullptr, retain_graph);
    }
}

void Tensor::backward(const Array& seed, bool retain_graph, bool create_graph) const {
    checked();
    if (create_graph) {
        detail::backward_with_graph(*this, &seed);
    } else {
        detail::run_backward(*this, &seed, retain_graph);
    }
}

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
