#pragma once
// Tensor: a shared handle to a value, its gradient, and where it was recorded.
// Copies of a Tensor refer to the same node, so optimizers update parameters in place
// and every holder sees the update.
#include <cstdint>
#include <memory>
#include <string>

#include "xgrad/core/array.hpp"
#include "xgrad/core/storage.hpp"

namespace xg {

class Tape;
struct Record;

/// What a node is to the graph: data fed in, a fixed value, a trained weight, or an op's result.
enum class Role : std::uint8_t { input, constant, parameter, result };

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
    /// Replaces the gradient with `g`.
    void set_grad(Array g) { grad_.assign(std::move(g)); }
    /// Adds `g` to the gradient (takes it as the gradient when there is none yet).
    void add_grad(Array g);
    /// Adds `g` to the gradient of a one-element value.
    void add_grad(float g) { grad_.add(g); }
    /// Forgets the gradient.
    void drop_grad() noexcept { grad_.reset(); }
    /// The gradient as a recorded result, left by backward with create_graph; null otherwise.
    std::shared_ptr<Node> grad_graph() const;
    /// Sets (or, with null, forgets) the recorded gradient.
    void set_grad_graph(std::shared_ptr<Node> g);

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

/// A handle to a value in the graph: the input, parameter, constant or result of an op.
class Tensor {
public:
    /// An empty handle; most calls on it throw StateError.
    Tensor() = default;
    /// A leaf holding `value`; it takes part in gradients when requires_grad is true.
    explicit Tensor(Array value, bool requires_grad = false);
    /// A 0-d leaf holding `value`.
    static Tensor scalar(float value, bool requires_grad = false);
    /// Wraps an existing node (used by the tape and ops).
    explicit Tensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }
    const Array& value() const;
    /// The value for in-place updates (optimizers, loaders); never use it on a recorded result.
    Array& mutable_value();
    const Shape& shape() const;
    std::size_t rank() const { return shape().size(); }
    std::size_t size() const;
    /// The single element of a tensor of size 1.
    float item() const;

    bool requires_grad() const;
    /// Marks a leaf as trained (or not); throws StateError on an op result.
    Tensor& set_requires_grad(bool on);
    bool has_grad() const;
    /// dL/dself from the last backward; throws StateError when there is none.
    const Array& grad() const;
    Array& mutable_grad();
    /// dL/dself as a tensor: after backward(create_graph=true) the recorded gradient (itself
    /// differentiable), otherwise a constant holding grad(); throws StateError when there is none.
    Tensor grad_tensor() const;
    /// Forgets the gradient, recorded or not (the next backward starts from zero).
    void zero_grad();
    /// Keeps this result's gradient after backward (results drop theirs by default to save memory).
    void retain_grad();

    Role role() const;
    const std::string& name() const;
    Tensor& set_name(std::string name);

    /// A new leaf sharing nothing with the graph: same value (copied), no gradient history.
    Tensor detach() const;

    /// Back-propagates from this scalar. Non-scalars need `seed`, dL/dself, of the same shape.
    /// The tape is cleared afterwards unless retain_graph is true. With create_graph the walk
    /// records its own ops and leaves' gradients are recorded tensors too (grad_tensor()); the
    /// tape is then kept, as they refer to it.
    void backward(bool retain_graph = false, bool create_graph = false) const;
    void backward(const Array& seed, bool retain_graph = false, bool create_graph = false) const;

    /// The tape record that produced this tensor, or nullptr for leaves and unrecorded results.
    const Record* creator() const;

    Node* node() const { return node_.get(); }
    const std::shared_ptr<Node>& node_ptr() const { return node_; }

private:
    Node& checked() const;
    std::shared_ptr<Node> node_;
};

/// A trained weight: a named leaf that requires a gradient.
Tensor parameter(Array value, std::string name);
/// Data fed into a model: a named leaf without gradient.
Tensor input(Array value, std::string name = "input");
/// A fixed value (scalars in expressions, targets).
Tensor constant(Array value);

}  // namespace xg
