#pragma once
// Differentiable gradient rules. An op's array rule (BackwardFn, ScalarRule) is the fast path of
// a plain backward; its TensorRule computes the same gradient with xgrad ops on Tensors, so that
// a walk run with create_graph records what it computes and the gradient can be differentiated
// again, to any order (docs/architecture.md, "Higher-order gradients").
#include <string_view>
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
    bool wants(std::size_t i) const { return inputs_[i].requires_grad(); }
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

}  // namespace xg
