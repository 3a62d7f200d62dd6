#include "xgrad/autograd/creation.hpp"

#include <cmath>
#include <random>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"

namespace xg {
namespace {

Array filled(const Shape& shape, float value, const char* op) {
    checked_element_count(shape, op);
    Array a = uninitialized(shape);
    std::fill(a.begin(), a.end(), value);
    return a;
}

template <class Distribution>
Tensor drawn(const Shape& shape, Distribution dist, bool requires_grad, const char* op) {
    checked_element_count(shape, op);
    Array a = uninitialized(shape);
    auto& engine = random_engine();
    for (float& v : a) v = static_cast<float>(dist(engine));
    return Tensor(std::move(a), requires_grad);
}

}  // namespace

Tensor zeros(const Shape& shape, bool requires_grad) { return Tensor(filled(shape, 0.0f, "zeros"), requires_grad); }

Tensor ones(const Shape& shape, bool requires_grad) { return Tensor(filled(shape, 1.0f, "ones"), requires_grad); }

Tensor full(const Shape& shape, float value, bool requires_grad) {
    return Tensor(filled(shape, value, "full"), requires_grad);
}

Tensor array(const Shape& shape, const std::vector<float>& values, bool requires_grad) {
    const std::size_t n = checked_element_count(shape, "array");
    if (values.size() != n) {
        throw ShapeError(fmt::format("array: {} values for shape {}; expected {} (the product of the extents)",
                                     values.size(), format_shape(shape), n));
    }
    Array a = uninitialized(shape);
    std::copy(values.begin(), values.end(), a.begin());
    return Tensor(std::move(a), requires_grad);
}

Tensor random_normal(const Shape& shape, float mean, float stddev, bool requires_grad) {
    if (!(stddev >= 0.0f) || !std::isfinite(stddev) || !std::isfinite(mean)) {
        throw ValueError(fmt::format("random_normal: mean {} and stddev {}; expected finite values, stddev >= 0", mean, stddev));
    }
    return drawn(shape, std::normal_distribution<double>(mean, stddev), requires_grad, "random_normal");
}

Tensor random_uniform(const Shape& shape, float low, float high, bool requires_grad) {
    if (!(low < high) || !std::isfinite(low) || !std::isfinite(high)) {
        throw ValueError(fmt::format("random_uniform: range [{}, {}); expected finite low < high", low, high));
    }
    return drawn(shape, std::uniform_real_distribution<double>(low, high), requires_grad, "random_uniform");
}

}  // namespace xg
