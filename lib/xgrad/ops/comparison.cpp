// Comparison: where x differs from a value, as 1 and 0. A mask made from data (the padding of a
// sequence of word ids) rather than a constant, so that it stays an op of the input: exported, the
// mask is computed from the graph's input, not frozen at the example's. Its derivative is zero
// almost everywhere, so no gradient flows through it (of any order).
#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor not_equal(const Tensor& x, float value) {
    if (!x.defined()) throw ValueError("not_equal: x is an empty handle; expected a tensor");
    Array y = xt::cast<float>(xt::not_equal(x.value(), value));
    return record_op("not_equal", {x}, std::move(y), [](GradientContext&) {}, [](TensorGradientContext&) {},
                     OpAttributes{{"value", value}});
}

}  // namespace xg
