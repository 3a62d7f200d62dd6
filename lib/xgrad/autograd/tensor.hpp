#pragma once
// Tensor: a shared handle to a value, its gradient, and where it was recorded.
// Copies of a Tensor refer to the same node, so optimizers update parameters in place
// and every holder sees the update.
#include <cstdint>
#include <memory>
#include <string>

#include "xgrad/core/array.hpp"

namespace xg {

class Tape;
struct Record;

namespace detail {
struct Node;
}  // namespace detail

/// What a node is to the graph: data fed in, a fixed value, a trained weight, or an op's result.
enum class Role : std::uint8_t { input, constant, parameter, result };

/// A handle to a value in the graph: the input, parameter, constant or result of an op.
class Tensor {
public:
    /// An empty handle; most calls on it throw StateError.
    Tensor() = default;
    /// A leaf holding `value`; it takes part in gradients when requires_grad is true.
    explicit Tensor(Array value, bool requires_grad = false);
    /// A 0-d leaf holding `value`.
    static Tensor scalar(float value, bool requires_grad = false);
    /// Wraps an engine node (the tape's and the ops' business: autograd/detail/node.hpp).
    explicit Tensor(std::shared_ptr<detail::Node> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }
    const Array& value() const;
    /// The value for in-place updates (optimizers, loaders); never use it on a recorded result.
    Array& mutable_value();
    const Shape& shape() const;
    std::size_t rank() const { return shape().size(); }
    std::size_t size() const;
    /// The single element of a tensor of size 1.
    float item() const;
    /// Sets the single element of a tensor of size 1 in place (an optimizer's step on a 0-d weight,
    /// which stays held inline); throws ShapeError for any other size.
    void set_item(float value);

    bool requires_grad() const;
    /// Marks a leaf as trained (or not); throws StateError on an op result.
    Tensor& set_requires_grad(bool on);
    bool has_grad() const;
    /// dL/dself from the last backward; throws StateError when there is none.
    const Array& grad() const;
    Array& mutable_grad();
    /// The single element of dL/dself; throws StateError when there is none, ShapeError when it has more.
    float grad_item() const;
    /// Replaces dL/dself with `grad` (an all-reduced or clipped gradient); throws ShapeError unless
    /// it has the tensor's shape.
    void set_grad(Array grad);
    /// dL/dself as a tensor: after backward(create_graph=true) the recorded gradient (itself
    /// differentiable), otherwise a constant holding grad(); throws StateError when there is none.
    /// A plain backward that adds to a recorded gradient makes it a constant holding the sum.
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

    /// The engine's node (autograd/detail/node.hpp), for the tape and the ops' fast paths.
    detail::Node* node() const { return node_.get(); }
    /// The engine's node, shared.
    const std::shared_ptr<detail::Node>& node_ptr() const { return node_; }

private:
    detail::Node& checked() const;
    std::shared_ptr<detail::Node> node_;
};

/// A trained weight: a named leaf that requires a gradient.
Tensor parameter(Array value, std::string name);
/// Data fed into a model: a named leaf without gradient.
Tensor input(Array value, std::string name = "input");
/// A fixed value (scalars in expressions, targets).
Tensor constant(Array value);

}  // namespace xg
