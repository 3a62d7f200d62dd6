#pragma once
// How the elementwise ops are made: each is written once, for one element, as its function and
// its gradient rule, and those serve both paths:
// - 0-d inputs held inline (a micrograd-style scalar graph): floats in, a float out, and a
//   ScalarRule for backward. No Array is built: that would cost twenty times the arithmetic.
// - arrays: the same functions mapped over the elements (a plain loop over contiguous buffers
//   when the shapes agree, xtensor's broadcasting when not).
// Each op also gives its gradient as a function of Tensors (the differentiable rule, run by walks
// with create_graph), e.g. for tanh [](const Tensor& g, const Tensor& x, const Tensor& y) { return
// g * (1.0f - y * y); }; it serves both paths too.
// A rule must not capture (the scalar path calls it through a plain function pointer).
#include <type_traits>
#include <utility>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/elementwise.hpp"

namespace xg::detail {

inline bool is_inline_scalar(const Tensor& t) { return t.defined() && t.node()->is_scalar(); }

/// mask(x) elementwise as a constant: a factor of a gradient that is not itself differentiated
/// (relu's, abs's, clip's: their derivative is piecewise constant).
template <class Mask>
Tensor constant_mask(const Tensor& x, Mask mask) {
    if (is_inline_scalar(x)) return Tensor(make_node(mask(x.node()->item()), Role::constant, false));
    return constant(map_elements(x.value(), mask));
}

/// mask(a, b) elementwise (numpy broadcasting) as a constant: the two-input constant_mask
/// (maximum's and minimum's share of the gradient).
template <class Mask>
Tensor constant_mask(const Tensor& a, const Tensor& b, Mask mask) {
    if (is_inline_scalar(a) && is_inline_scalar(b)) {
        return Tensor(make_node(mask(a.node()->item(), b.node()->item()), Role::constant, false));
    }
    return constant(map_elements(a.value(), b.value(), mask));
}

template <class Rule>
void unary_scalar_rule(const float* x, float y, float g, float* dx) {
    dx[0] = Rule{}(g, x[0], y);
}

template <class RuleA, class RuleB>
void binary_scalar_rule(const float* x, float y, float g, float* dx) {
    dx[0] = RuleA{}(g, x[0], x[1], y);
    dx[1] = RuleB{}(g, x[0], x[1], y);
}

template <class TensorRule>
void unary_tensor_rule(TensorGradientContext& ctx) {
    ctx.accumulate(0, TensorRule{}(ctx.grad(), ctx.input(0), ctx.output()));
}

template <class TensorRuleA, class TensorRuleB>
void binary_tensor_rule(TensorGradientContext& ctx) {
    if (ctx.wants(0)) ctx.accumulate(0, TensorRuleA{}(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output()));
    if (ctx.wants(1)) ctx.accumulate(1, TensorRuleB{}(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output()));
}

// Registered before main, once per op, so that the scalar path pays nothing per call.
template <class Rule, class TensorRule>
inline const bool unary_rules_registered =
    (register_scalar_tensor_rule(&unary_scalar_rule<Rule>, &unary_tensor_rule<TensorRule>), true);

template <class RuleA, class RuleB, class TensorRuleA, class TensorRuleB>
inline const bool binary_rules_registered = (register_scalar_tensor_rule(&binary_scalar_rule<RuleA, RuleB>,
                                                                         &binary_tensor_rule<TensorRuleA, TensorRuleB>),
                                             true);

/// y = f(x) elementwise with dL/dx = rule(g, x, y) for g = dL/dy, and the same as Tensors:
/// tensor_rule(g, x, y). `array_f` computes f over a whole Array (for functions xtensor vectorizes
/// better than a loop of f).
template <class F, class Rule, class TensorRuleT, class ArrayF>
Tensor unary_elementwise(const char* op, const Tensor& x, F f, Rule rule, TensorRuleT, ArrayF array_f) {
    static_assert(std::is_empty_v<Rule> && std::is_empty_v<TensorRuleT>, "an elementwise gradient rule must not capture");
    (void)unary_rules_registered<Rule, TensorRuleT>;
    if (is_inline_scalar(x)) return record_scalar_op(op, {x}, f(x.node()->item()), &unary_scalar_rule<Rule>);
    return record_op(op, {x}, array_f(x.value()), [rule](GradientContext& ctx) {
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(0), ctx.output(), rule));
    }, &unary_tensor_rule<TensorRuleT>);
}

/// unary_elementwise with f mapped over the elements for arrays too.
template <class F, class Rule, class TensorRuleT>
Tensor unary_elementwise(const char* op, const Tensor& x, F f, Rule rule, TensorRuleT tensor_rule) {
    return unary_elementwise(op, x, f, rule, tensor_rule, [f](const Array& a) { return map_elements(a, f); });
}

/// unary_elementwise for an op with settings (elu's alpha), which its rules capture: the rules
/// are closures, so a 0-d input takes the array path (the scalar path calls plain functions).
/// The settings are recorded as the op's attributes.
template <class F, class Rule, class TensorRuleT>
Tensor unary_elementwise_with(const char* op, const Tensor& x, F f, Rule rule, TensorRuleT tensor_rule,
                              OpAttributes attributes) {
    return record_op(op, {x}, map_elements(x.value(), f), [rule](GradientContext& ctx) {
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(0), ctx.output(), rule));
    }, [tensor_rule](TensorGradientContext& ctx) {
        ctx.accumulate(0, tensor_rule(ctx.grad(), ctx.input(0), ctx.output()));
    }, std::move(attributes));
}

/// y = f(a, b) elementwise with numpy broadcasting; dL/da = rule_a(g, a, b, y) and
/// dL/db = rule_b(g, a, b, y) in the broadcast shape (the tape sums them back to each input's),
/// and the same as Tensors: tensor_rule_a(g, a, b, y), tensor_rule_b(g, a, b, y).
template <class F, class RuleA, class RuleB, class TensorRuleA, class TensorRuleB>
Tensor binary_elementwise(const char* op, const Tensor& a, const Tensor& b, F f, RuleA rule_a, RuleB rule_b,
                          TensorRuleA, TensorRuleB) {
    static_assert(std::is_empty_v<RuleA> && std::is_empty_v<RuleB> && std::is_empty_v<TensorRuleA> &&
                      std::is_empty_v<TensorRuleB>,
                  "an elementwise gradient rule must not capture");
    (void)binary_rules_registered<RuleA, RuleB, TensorRuleA, TensorRuleB>;
    if (is_inline_scalar(a) && is_inline_scalar(b)) {
        return record_scalar_op(op, {a, b}, f(a.node()->item(), b.node()->item()), &binary_scalar_rule<RuleA, RuleB>);
    }
    if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), op);
    return record_op(op, {a, b}, map_elements(a.value(), b.value(), f), [rule_a, rule_b](GradientContext& ctx) {
        if (ctx.wants(0)) ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output(), rule_a));
        if (ctx.wants(1)) ctx.accumulate(1, map_elements(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output(), rule_b));
    }, &binary_tensor_rule<TensorRuleA, TensorRuleB>);
}

}  // namespace xg::detail
