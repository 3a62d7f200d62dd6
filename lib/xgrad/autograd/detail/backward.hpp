#pragma once
// The engine's backward walks, behind Tensor::backward and xg::grad: the plain walk over arrays
// (defined in autograd/tape.cpp) and the walk that runs TensorRules (autograd/tensor_rule.cpp).
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/array.hpp"

namespace xg::detail {

/// Throws unless backward may start at `root` seeded with `seed` (null: dL/droot = 1): `root`
/// requires a gradient, is not a result of a cleared tape, and `seed` has its shape, or without
/// a seed it has one element. StateError or ShapeError, as Tensor::backward documents.
void check_backward_root(const Node& root, const Array* seed);

/// Reverse-mode walk from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Array* seed, bool retain_graph);

/// Gradients of `roots` (seeded with `seeds`, one per root, each of its root's shape) as Tensors,
/// by a reverse walk of this thread's tape that runs each record's TensorRule, recording when
/// `create_graph`. Returns dL/dnode for every leaf reached and every node in `keep`. A record without
/// a TensorRule runs its array rule; with create_graph its result is recorded by an op whose own
/// gradient throws StateError naming the op. The tape is left as it was plus the new records.
/// `for_backward`: results that retain_grad() get their gradient as an Array, as in backward().
std::unordered_map<const Node*, Tensor> walk_tensor_gradients(const std::vector<Tensor>& roots,
                                                              const std::vector<Tensor>& seeds,
                                                              const std::unordered_set<const Node*>& keep,
                                                              bool create_graph, bool for_backward);

/// Tensor::backward with create_graph: leaves get their gradient as an Array and as a recorded
/// tensor (Tensor::grad_tensor); the tape is kept.
void backward_with_graph(const Tensor& root, const Array* seed);

}  // namespace xg::detail
