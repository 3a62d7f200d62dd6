#include "xgrad/nn/initializer.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/detail/initializer_budget.hpp"

namespace xg::detail {
namespace {

// The innermost InitializerBudget of this thread; none without one.
thread_local std::optional<InitializerBudget::Values> budget_in_force;

}  // namespace

InitializerBudget::InitializerBudget(std::size_t values) : outer_(budget_in_force) {
    budget_in_force = Values{values, values};
}

InitializerBudget::~InitializerBudget() { budget_in_force = outer_; }

void claim_initializer_values(const Shape& shape) {
    if (!budget_in_force) return;
    // A shape read from a file may multiply past size_t: counted with the overflow check every
    // array's shape gets.
    const std::size_t count = checked_element_count(shape, "initializer");
    if (count > budget_in_force->left) {
        throw ValueError(fmt::format("initializer: shape {} is {} values, more than the {} left of the {} allowed; "
                                     "expected sizes that fit the weights being loaded",
                                     format_shape(shape), count, budget_in_force->left, budget_in_force->allowed));
    }
    budget_in_force->left -= count;
}

}  // namespace xg::detail

namespace xg::initializers {
namespace {

// Fans as Keras computes them: (in, out) for a matrix; for a convolution kernel
// (KH, KW, C_in, C_out), each scaled by the receptive field KH KW; the size for a vector.
std::pair<double, double> fans(const Shape& shape) {
    if (shape.size() == 2) return {static_cast<double>(shape[0]), static_cast<double>(shape[1])};
    if (shape.size() > 2) {
        double receptive = 1.0;
        for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
        return {receptive * static_cast<double>(shape[shape.size() - 2]), receptive * static_cast<double>(shape.back())};
    }
    const double n = static_cast<double>(element_count(shape));
    return {n, n};
}

template <class Distribution>
Array fill(const Shape& shape, Distribution dist) {
    detail::claim_initializer_values(shape);
    Array a = uninitialized(shape);
    auto& engine = random_engine();
    for (float& v : a) v = static_cast<float>(dist(engine));
    return a;
}

Array uniform_limit(const Shape& shape, double limit) {
    return fill(shape, std::uniform_real_distribution<double>(-limit, limit));
}

}  // namespace

Array glorot_uniform(const Shape& shape) {
    auto [in, out] = fans(shape);
    return uniform_limit(shape, std::sqrt(6.0 / (in + out)));
}

Array he_uniform(const Shape& shape) { return uniform_limit(shape, std::sqrt(6.0 / fans(shape).first)); }

Array he_normal(const Shape& shape) {
    // Keras draws from a normal truncated at 2 sigma, scaled so the stddev is sqrt(2/fan_in).
    detail::claim_initializer_values(shape);
    const double stddev = std::sqrt(2.0 / fans(shape).first) / 0.87962566103423978;
    std::normal_distribution<double> normal(0.0, stddev);
    Array a = uninitialized(shape);
    auto& engine = random_engine();
    for (float& v : a) {
        double x;
        do x = normal(engine);
        while (std::abs(x) > 2.0 * stddev);
        v = static_cast<float>(x);
    }
    return a;
}

Array orthogonal(const Shape& shape) {
    if (shape.size() < 2) {
        throw ShapeError(fmt::format("orthogonal: shape {}; expected at least two axes", format_shape(shape)));
    }
    detail::claim_initializer_values(shape);
    const std::size_t cols = shape.back();
    const std::size_t rows = cols == 0 ? 0 : element_count(shape) / cols;
    Array out = uninitialized(shape);
    if (out.size() == 0) return out;
    // QR of a tall normal matrix: Q's columns are orthonormal; flipped by R's diagonal's signs
    // so that Q is drawn uniformly (Haar), not biased by the decomposition's convention.
    const std::size_t tall = std::max(rows, cols), wide = std::min(rows, cols);
    xt::xtensor<double, 2> a = xt::empty<double>({tall, wide});
    std::normal_distribution<double> normal(0.0, 1.0);
    auto& engine = random_engine();
    for (double& v : a) v = normal(engine);
    auto [q, r] = xt::linalg::qr(a);
    for (std::size_t j = 0; j < wide; ++j) {
        if (r(j, j) < 0) xt::view(q, xt::all(), j) *= -1.0;
    }
    // Fewer rows than columns: orthonormal rows, the transpose of a tall Q.
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            out.flat(i * cols + j) = static_cast<float>(rows >= cols ? q(i, j) : q(j, i));
        }
    }
    return out;
}

Array zeros(const Shape& shape) {
    detail::claim_initializer_values(shape);
    return xt::zeros<float>(shape);
}

Array ones(const Shape& shape) {
    detail::claim_initializer_values(shape);
    return xt::ones<float>(shape);
}

Initializer random_normal(float mean, float stddev) {
    return [=](const Shape& shape) { return fill(shape, std::normal_distribution<double>(mean, stddev)); };
}

Initializer random_uniform(float low, float high) {
    return [=](const Shape& shape) { return fill(shape, std::uniform_real_distribution<double>(low, high)); };
}

}  // namespace xg::initializers

namespace xg {

Initializer initializer_by_name(const std::string& name) {
    if (name == "glorot_uniform") return initializers::glorot_uniform;
    if (name == "he_normal") return initializers::he_normal;
    if (name == "he_uniform") return initializers::he_uniform;
    if (name == "orthogonal") return initializers::orthogonal;
    if (name == "zeros") return initializers::zeros;
    if (name == "ones") return initializers::ones;
    if (name == "random_normal") return initializers::random_normal();
    if (name == "random_uniform") return initializers::random_uniform();
    throw ValueError(fmt::format("initializer_by_name: unknown initializer '{}'; expected glorot_uniform, he_normal, "
                                 "he_uniform, orthogonal, zeros, ones, random_normal or random_uniform", name));
}

}  // namespace xg
