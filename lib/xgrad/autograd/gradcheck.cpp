#include "xgrad/autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// sum(y * r) in double, so that the differences of two nearby losses keep their precision.
double projected(const Array& y, const Array& r) {
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += static_cast<double>(y.data()[i]) * r.data()[i];
    return total;
}

Array random_like(const Shape& shape, std::mt19937& engine) {
    std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
    Array a = uninitialized(shape);
    for (float& v : a) v = uniform(engine);
    return a;
}

double worst_relative_error(const Array& analytic, std::size_t k, double numeric) {
    const double a = analytic.data()[k];
    const double err = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
    return std::isnan(err) ? INFINITY : err;
}

}  // namespace

std::string GradcheckResult::report() const {
    std::string out;
    for (std::size_t i = 0; i < worst_error.size(); ++i) {
        out += fmt::format("input {} {}: worst error {:.3g}{}\n", i, format_shape(input_shapes[i]), worst_error[i],
                           worst_error[i] > tolerance ? " (above tolerance)" : "");
    }
    return out;
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Array>& inputs,
                          const GradcheckOptions& options) {
    std::vector<Tensor> params;
    for (std::size_t i = 0; i < inputs.size(); ++i) params.push_back(parameter(inputs[i], fmt::format("x{}", i)));

    Tensor y = f(params);
    if (!y.requires_grad()) {
        throw ValueError("gradcheck: the function's output does not depend on any input through recorded ops; "
                         "expected a result of ops on the given tensors");
    }
    std::mt19937 engine(options.seed);
    std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
    Array r = uninitialized(y.shape());
    for (float& v : r) v = uniform(engine);
    y.backward(r);

    GradcheckResult result;
    result.tolerance = options.tolerance;
    NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) {
        Array analytic = params[i].has_grad() ? params[i].grad() : xt::zeros<float>(inputs[i].shape());
        double worst = 0.0;
        Array& x = params[i].mutable_value();
        for (std::size_t k = 0; k < x.size(); ++k) {
            const float original = x.data()[k];
            x.data()[k] = original + options.epsilon;
            const double up = projected(f(params).value(), r);
            x.data()[k] = original - options.epsilon;
            const double down = projected(f(params).value(), r);
            x.data()[k] = original;
            worst = std::max(worst, worst_relative_error(analytic, k, (up - down) / (2.0 * options.epsilon)));
        }
        result.worst_error.push_back(worst);
        result.input_shapes.push_back(inputs[i].shape());
    }
    result.passed = std::all_of(result.worst_error.begin(), result.worst_error.end(),
                                [&](double e) { return e <= options.tolerance; });
    return result;
}

}  // namespace xg

namespace xg {

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Array>& inputs, const GradcheckOptions& options) {
    std::vector<Tensor> params;
    for (std::size_t i = 0; i < inputs.size(); ++i) params.push_back(parameter(inputs[i], fmt::format("x{}", i)));
    // Gradient checks differentiate, whatever guard the caller is under.
    GradModeGuard recording(true);
    Tensor y = f(params);
    if (!y.requires_grad()) {
        throw ValueError("gradgradcheck: the function's output does not depend on any input through recorded ops; "
                         "expected a result of ops on the given tensors");
    }
    std::mt19937 engine(options.seed);
    const Tensor r = constant(random_like(y.shape(), engine));
    std::vector<Array> u;
    for (const Array& x : inputs) u.push_back(random_like(x.shape(), engine));

    // dL/dx_i for L = f . r from the differentiable rules, recorded; then their projection
    // sum_i u_i . dL/dx_i, differentiated again.
    Tape::current().clear();
    GradOptions recorded;
    recorded.grad_outputs = {r};
    recorded.create_graph = true;
    recorded.allow_unused = true;
    std::vector<Tensor> g = grad({f(params)}, params, recorded);
    Tensor total;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (!g[i].defined() || !g[i].requires_grad()) continue;  // constant in the inputs: its part of H is 0
        Tensor term = sum(g[i] * constant(u[i]));
        total = total.defined() ? total + term : term;
    }
    std::vector<Array> analytic;
    if (total.defined()) {
        GradOptions second;
        second.allow_unused = true;
        std::vector<Tensor> h = grad({total}, params, second);
        for (std::size_t i = 0; i < h.size(); ++i) {
            analytic.push_back(h[i].defined() ? Array(h[i].value()) : Array(xt::zeros<float>(inputs[i].shape())));
        }
    } else {
        Tape::current().clear();
        for (const Array& x : inputs) analytic.push_back(xt::zeros<float>(x.shape()));
    }

    // The first-order gradient of the fast path (backward(), the array rules that gradcheck
    // checks): the differentiable rules must agree with it, and their derivative with its
    // finite differences.
    auto array_gradients = [&] {
        for (Tensor& p : params) p.zero_grad();
        f(params).backward(r.value());
        std::vector<Array> g;
        for (std::size_t i = 0; i < params.size(); ++i) {
            g.push_back(params[i].has_grad() ? Array(params[i].grad()) : Array(xt::zeros<float>(inputs[i].shape())));
            params[i].zero_grad();
        }
        return g;
    };
    auto projected_gradient = [&] {
        const std::vector<Array> g = array_gradients();
        double s = 0.0;
        for (std::size_t i = 0; i < g.size(); ++i) s += projected(g[i], u[i]);
        return s;
    };
    const std::vector<Array> fast = array_gradients();
    GradcheckResult result;
    result.tolerance = options.tolerance;
    for (std::size_t i = 0; i < params.size(); ++i) {
        double worst = 0.0;
        const Array differentiable = g[i].defined() ? Array(g[i].value()) : Array(xt::zeros<float>(inputs[i].shape()));
        for (std::size_t k = 0; k < differentiable.size(); ++k) {
            worst = std::max(worst, worst_relative_error(differentiable, k, fast[i].data()[k]));
        }
        Array& x = params[i].mutable_value();
        for (std::size_t k = 0; k < x.size(); ++k) {
            const float original = x.data()[k];
            x.data()[k] = original + options.epsilon;
            const double up = projected_gradient();
            x.data()[k] = original - options.epsilon;
            const double down = projected_gradient();
            x.data()[k] = original;
            worst = std::max(worst, worst_relative_error(analytic[i], k, (up - down) / (2.0 * options.epsilon)));
        }
        result.worst_error.push_back(worst);
        result.input_shapes.push_back(inputs[i].shape());
    }
    result.passed = std::all_of(result.worst_error.begin(), result.worst_error.end(),
                                [&](double e) { return e <= options.tolerance; });
    return result;
}

}  // namespace xg
