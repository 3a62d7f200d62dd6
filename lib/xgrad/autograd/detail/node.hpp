#pragma once
// The engine's side of a Tensor: the node a handle shares (its value, gradient and place on the
// tape), how nodes are made and counted. Users go through Tensor; the tape, the ops' fast paths
// and the tests of the engine come here. Defined in autograd/tensor.cpp.
#include <cstdint>
#include <memory>
#include <string>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/detail/buffer_pool.hpp"
#include "xgrad/core/detail/storage.hpp"

namespace xg::detail {

/// The storage behind a Tensor handle.
struct Node {
    Node(Array v, Role r, bool needs_grad);
    /// A 0-d node holding `v` inline.
    Node(float v, Role r, bool needs_grad);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// The value. A 0-d value is held as one inline float, and its Array is built on first use.
    const Array& value() const { return value_.array(); }
    /// The value for in-place updates.
    Array& mutable_value() { return value_.mutable_array(); }
    /// Whether the value is a 0-d float held inline (the scalar ops' fast path).
    bool is_scalar() const { return value_.is_scalar(); }
    /// Changes an inline scalar's value in place (an optimizer's step), keeping it inline;
    /// only when is_scalar(). mutable_value() would turn it into an Array for good.
    void set_scalar(float v) { value_.set_scalar(v); }
    /// The value's single element; throws ShapeError when it has more or fewer.
    float item() const { return value_.is_scalar() ? value_.scalar() : array_item(value_, ""); }
    const Shape& shape() const { return value_.shape(); }
    std::size_t size() const { return value_.size(); }

    bool requires_grad = false;
    bool retains_grad = false;
    Role role;
    // Set for op results recorded on a tape: at which index, in which tape generation (0: none).
    // Generations are unique across all tapes of the process, so they also say which tape.
    std::uint32_t record = 0;
    std::uint64_t generation = 0;
    /// Whether the node is an op result recorded on some tape (in this or an earlier generation).
    bool recorded() const { return generation != 0; }

    /// The name shown in graphs and errors ("dense_1/kernel"); empty for most results.
    const std::string& name() const;
    void set_name(std::string name);

    /// dL/dvalue: whether one is held, and the held one.
    bool has_grad() const { return !grad_.empty(); }
    const Array& grad() const { return grad_.array(); }
    Array& grad() { return grad_.mutable_array(); }
    /// The gradient's element count (no Array is built for an inline one).
    std::size_t grad_size() const { return grad_.size(); }
    /// The gradient's single element (the scalar ops' fast path); throws ShapeError when it has more.
    float grad_item() const { return grad_.is_scalar() ? grad_.scalar() : array_item(grad_, "'s gradient"); }
    /// Replaces the gradient with `g` (a recorded one is forgotten).
    void set_grad(Array g) {
        forget_recorded_grad();
        grad_.assign(std::move(g));
    }
    /// Adds `g` to the gradient (takes it as the gradient when there is none yet).
    void add_grad(Array g);
    /// The gradient to add a part into in place: zeros of the value's shape when there is none
    /// yet (a recorded one is forgotten, as by add_grad).
    Array& grad_to_add_into();
    /// Adds `g` to the gradient of a one-element value.
    void add_grad(float g) {
        forget_recorded_grad();
        grad_.add(g);
    }
    /// Forgets the gradient.
    void drop_grad() noexcept { grad_.reset(); }
    /// The gradient as a recorded result, left by backward with create_graph; null otherwise.
    std::shared_ptr<Node> grad_graph() const;
    /// Sets (or, with null, forgets) the recorded gradient.
    void set_grad_graph(std::shared_ptr<Node> g);
    /// Forgets the recorded gradient, if any: adding to the gradient (a plain backward after
    /// one with create_graph) makes it a constant again, so grad_tensor() agrees with grad().
    void forget_recorded_grad() noexcept {
        if (extra_ && extra_->grad_graph) extra_->grad_graph.reset();
    }

private:
    // The single element of an Array held in `s` (item and grad_item off their fast path).
    static float array_item(const Storage& s, const char* what);

    Storage value_;
    // What only some leaves have: a name, a recorded gradient. Out of line, so that a scalar
    // graph's nodes fit a small block.
    struct Extra {
        std::string name;
        std::shared_ptr<Node> grad_graph;
    };
    PooledPtr<Extra> extra_;
    // Empty until backward reaches the node; most nodes are intermediate results that hold a
    // gradient only for the moment backward passes through them.
    Storage grad_;
};

/// Number of tensor nodes alive in the process (used to show memory stays flat).
long live_node_count();

/// A new node, allocated (with its reference count) from the per-thread buffer pool.
std::shared_ptr<Node> make_node(Array value, Role role, bool needs_grad);
/// A new 0-d node holding `value` inline.
std::shared_ptr<Node> make_node(float value, Role role, bool needs_grad);

}  // namespace xg::detail
