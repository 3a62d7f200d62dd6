#include "xgrad/optim/rmsprop.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {

RMSprop::RMSprop(std::vector<Tensor> parameters, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(parameters), options.learning_rate), options_(options) {
    if (!(options.rho >= 0.0f && options.rho < 1.0f)) {
        throw ValueError(fmt::format("RMSprop: rho {}; expected 0 <= rho < 1", options.rho));
    }
    if (!(options.epsilon >= 0.0f)) throw ValueError(fmt::format("RMSprop: epsilon {}; expected >= 0", options.epsilon));
    if (!(options.momentum >= 0.0f && options.momentum < 1.0f)) {
        throw ValueError(fmt::format("RMSprop: momentum {}; expected 0 <= momentum < 1", options.momentum));
    }
    add_slot("rms");
    std::size_t next = 1;
    if (options.centered) {
        add_slot("mean_grad");
        mean_slot_ = next++;
    }
    if (options.momentum > 0.0f) {
        add_slot("momentum");
        momentum_slot_ = next++;
    }
}

void RMSprop::update(std::size_t index, float* w, const float* g, std::size_t n) {
    const float lr = learning_rate(), rho = options_.rho, eps = options_.epsilon;
    float* ms = slot(0, index).data();
    if (!options_.centered && options_.momentum == 0.0f) {
        // The common case, kept branch-free so that it vectorises (sqrt included, with -fno-math-errno).
        parallel_for(0, n, kParallelGrain, [=](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) {
                ms[i] = rho * ms[i] + (1.0f - rho) * g[i] * g[i];
                w[i] -= lr * g[i] / (std::sqrt(ms[i]) + eps);
            }
        });
        return;
    }
    float* mg = options_.centered ? slot(mean_slot_, index).data() : nullptr;
    float* mom = options_.momentum > 0.0f ? slot(momentum_slot_, index).data() : nullptr;
    const float momentum = options_.momentum;
    parallel_for(0, n, kParallelGrain, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) {
            ms[i] = rho * ms[i] + (1.0f - rho) * g[i] * g[i];
            float denominator = ms[i];
            if (mg) {
                mg[i] = rho * mg[i] + (1.0f - rho) * g[i];
                denominator = std::max(ms[i] - mg[i] * mg[i], 0.0f);
            }
            const float step = lr * g[i] / (std::sqrt(denominator) + eps);
            if (mom) {
                mom[i] = momentum * mom[i] + step;
                w[i] -= mom[i];
            } else {
                w[i] -= step;
            }
        }
    });
}

}  // namespace xg
