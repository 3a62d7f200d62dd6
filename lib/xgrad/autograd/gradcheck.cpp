#include "xgrad/autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// sum(y * r) in double, so that the differences of two nearby losses keep their precision.
double projected(const Array& y, const Array& r) {
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += static_cast<double>(y.data()[i]) * r.data()[i];
    return total;
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
            const double numeric = (up - down) / (2.0 * options.epsilon);
            const double a = analytic.data()[k];
            const double err = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
            worst = std::max(worst, std::isnan(err) ? INFINITY : err);
        }
        result.worst_error.push_back(worst);
        result.input_shapes.push_back(inputs[i].shape());
    }
    result.passed = std::all_of(result.worst_error.begin(), result.worst_error.end(),
                                [&](double e) { return e <= options.tolerance; });
    return result;
}

}  // namespace xg
