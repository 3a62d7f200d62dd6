#pragma once
// Differentiable gradient rules. An op's array rule (BackwardFn, ScalarRule) is the fast path of
// a plain backward; its TensorRule computes the same gradient with xgrad ops on Tensors, so that
// a walk run with create_graph records what it computes and the gradient can be differentiated
// again, to any order (docs/architecture.md, "Higher-order gradients").
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// What a TensorRule sees of its record: every value as a Tensor (recorded when the walk records).
class TensorGradientContext {
public:
    /// A context for record `op` with `inputs`, `output` and dL/doutput = `grad`.
    TensorGradientContext(std::string_view op, std::vector<Tensor> inputs, Tensor output, Tensor grad);
    /// dL/doutput, with the output's shape.
    const Tensor& grad() const { return grad_; }
    const Tensor& input(std::size_t i) const { return inputs_[i]; }
    const Tensor& output() const { return output_; }
    std::size_t input_count() const { return inputs_.size(); }
    /// Whether input i needs a gradient (skip the work when it does not).
    bool wants(std::size_t i) const { return inputs_[i].node()->requires_grad; }
    /// Adds g to dL/dinput(i); g may have the broadcast shape, it is summed back (with sum_to, an op).
    void accumulate(std::size_t i, Tensor g);
    /// The op's name, "matmul".
    std::string_view op() const { return op_; }
    /// dL/dinput(i) as accumulated so far; empty when the rule gave input i nothing.
    const Tensor& result(std::size_t i) const { return results_[i]; }

private:
    std::string_view op_;
    std::vector<Tensor> inputs_;
    Tensor output_;
    Tensor grad_;
    std::vector<Tensor> results_;
};

/// The differentiable rule of scalar ops (record_scalar_op): a plain function, like ScalarRule.
using ScalarTensorRule = void (*)(TensorGradientContext&);

/// Declares `tensor_rule` the differentiable form of the scalar ops whose rule is `rule`
/// (a ScalarRule is a plain function pointer, so the record needs no room for a second one).
void register_scalar_tensor_rule(ScalarRule rule, ScalarTensorRule tensor_rule);
/// The rule registered for `rule`, or nullptr.
ScalarTensorRule scalar_tensor_rule(ScalarRule rule);

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

}  // namespace xg
