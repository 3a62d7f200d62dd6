#include "xgrad/optim/adam.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {

Adam::Adam(std::vector<Tensor> parameters, AdamOptions options)
    : Optimizer("Adam", std::move(parameters), options.learning_rate), options_(options) {
    for (float beta : {options.beta1, options.beta2}) {
        if (!(beta >= 0.0f && beta < 1.0f)) throw ValueError(fmt::format("Adam: beta {}; expected 0 <= beta < 1", beta));
    }
    if (!(options.epsilon >= 0.0f)) throw ValueError(fmt::format("Adam: epsilon {}; expected >= 0", options.epsilon));
    add_slot("m");
    add_slot("v");
}

void Adam::begin_step() {
    const double t = static_cast<double>(iterations());
    corrected_lr_ = static_cast<float>(learning_rate() * std::sqrt(1.0 - std::pow(options_.beta2, t)) /
                                       (1.0 - std::pow(options_.beta1, t)));
}

void Adam::update(std::size_t index, float* w, const float* g, std::size_t n) {
    const float b1 = options_.beta1, b2 = options_.beta2, eps = options_.epsilon, lr = corrected_lr_;
    float* m = slot(0, index).data();
    float* v = slot(1, index).data();
    parallel_for(0, n, kParallelGrain, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) {
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];
            v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
            w[i] -= lr * m[i] / (std::sqrt(v[i]) + eps);
        }
    });
}

}  // namespace xg
