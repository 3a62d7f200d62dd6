// Comparisons, as 1 and 0: where x differs from a value, and a against b elementwise. A mask
// made from data (the padding of a sequence of word ids) rather than a constant, so that it stays
// an op of the input: exported, the mask is computed from the graph's input, not frozen at the
// example's. A comparison's derivative is zero almost everywhere, so no gradient flows through
// it (of any order).
#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/elementwise.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// a `holds` b elementwise, numpy broadcasting; NaN compares false, as IEEE's ordered comparisons.
template <class Holds>
Tensor compared(const char* op, const Tensor& a, const Tensor& b, Holds holds) {
    if (!a.defined() || !b.defined()) {
        throw ValueError(fmt::format("{}: {} is an empty handle; expected a tensor", op, a.defined() ? "b" : "a"));
    }
    if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), op);
    Array y = map_elements(a.value(), b.value(), [holds](float x, float z) { return holds(x, z) ? 1.0f : 0.0f; });
    return record_op(op, {a, b}, std::move(y), [](GradientContext&) {}, [](TensorGradientContext&) {});
}

}  // namespace

Tensor not_equal(const Tensor& x, float value) {
    if (!x.defined()) throw ValueError("not_equal: x is an empty handle; expected a tensor");
    Array y = xt::cast<float>(xt::not_equal(x.value(), value));
    return record_op("not_equal", {x}, std::move(y), [](GradientContext&) {}, [](TensorGradientContext&) {},
                     OpAttributes{{"value", value}});
}

Tensor equal(const Tensor& a, const Tensor& b) {
    return compared("equal", a, b, [](float x, float z) { return x == z; });
}

Tensor greater(const Tensor& a, const Tensor& b) {
    return compared("greater", a, b, [](float x, float z) { return x > z; });
}

Tensor greater_equal(const Tensor& a, const Tensor& b) {
    return compared("greater_equal", a, b, [](float x, float z) { return x >= z; });
}

Tensor less(const Tensor& a, const Tensor& b) {
    return compared("less", a, b, [](float x, float z) { return x < z; });
}

Tensor less_equal(const Tensor& a, const Tensor& b) {
    return compared("less_equal", a, b, [](float x, float z) { return x <= z; });
}

}  // namespace xg
