#pragma once
// How the elementwise ops are made: each is written once, for one element, as its function and
// its gradient rule, and those serve both paths:
// - 0-d inputs held inline (a micrograd-style scalar graph): floats in, a float out, and a
//   ScalarRule for backward. No Array is built: that would cost twenty times the arithmetic.
// - arrays: the same functions mapped over the elements (a plain loop over contiguous buffers
//   when the shapes agree, xtensor's broadcasting when not).
// A rule must not capture (the scalar path calls it through a plain function pointer).
#include <type_traits>
#include <utility>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/elementwise.hpp"

namespace xg::detail {

inline bool is_inline_scalar(const Tensor& t) { return t.defined() && t.node()->is_scalar(); }

template <class Rule>
void unary_scalar_rule(const float* x, float y, float g, float* dx) {
    dx[0] = Rule{}(g, x[0], y);
}

template <class RuleA, class RuleB>
void binary_scalar_rule(const float* x, float y, float g, float* dx) {
    dx[0] = RuleA{}(g, x[0], x[1], y);
    dx[1] = RuleB{}(g, x[0], x[1], y);
}

/// y = f(x) elementwise with dL/dx = rule(g, x, y) for g = dL/dy. `array_f` computes f over a
/// whole Array (for functions xtensor vectorizes better than a loop of f).
template <class F, class Rule, class ArrayF>
Tensor unary_elementwise(const char* op, const Tensor& x, F f, Rule rule, ArrayF array_f) {
    static_assert(std::is_empty_v<Rule>, "an elementwise gradient rule must not capture");
    if (is_inline_scalar(x)) return record_scalar_op(op, {x}, f(x.node()->item()), &unary_scalar_rule<Rule>);
    return record_op(op, {x}, array_f(x.value()), [rule](GradientContext& ctx) {
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(0), ctx.output(), rule));
    });
}

/// unary_elementwise with f mapped over the elements for arrays too.
template <class F, class Rule>
Tensor unary_elementwise(const char* op, const Tensor& x, F f, Rule rule) {
    return unary_elementwise(op, x, f, rule, [f](const Array& a) { return map_elements(a, f); });
}

/// y = f(a, b) elementwise with numpy broadcasting; dL/da = rule_a(g, a, b, y) and
/// dL/db = rule_b(g, a, b, y) in the broadcast shape (the tape sums them back to each input's).
template <class F, class RuleA, class RuleB>
Tensor binary_elementwise(const char* op, const Tensor& a, const Tensor& b, F f, RuleA rule_a, RuleB rule_b) {
    static_assert(std::is_empty_v<RuleA> && std::is_empty_v<RuleB>, "an elementwise gradient rule must not capture");
    if (is_inline_scalar(a) && is_inline_scalar(b)) {
        return record_scalar_op(op, {a, b}, f(a.node()->item(), b.node()->item()), &binary_scalar_rule<RuleA, RuleB>);
    }
    if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), op);
    return record_op(op, {a, b}, map_elements(a.value(), b.value(), f), [rule_a, rule_b](GradientContext& ctx) {
        if (ctx.wants(0)) ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output(), rule_a));
        if (ctx.wants(1)) ctx.accumulate(1, map_elements(ctx.grad(), ctx.input(0), ctx.input(1), ctx.output(), rule_b));
    });
}

}  // namespace xg::detail
