#include "xgrad/optim/sgd.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {

SGD::SGD(std::vector<Tensor> parameters, SGDOptions options)
    : Optimizer("SGD", std::move(parameters), options.learning_rate), options_(options) {
    if (!(options.momentum >= 0.0f && options.momentum < 1.0f)) {
        throw ValueError(fmt::format("SGD: momentum {}; expected 0 <= momentum < 1", options.momentum));
    }
    if (options.momentum > 0.0f) add_slot("velocity");
}

void SGD::update(std::size_t index, float* w, const float* g, std::size_t n) {
    const float lr = learning_rate();
    if (options_.momentum == 0.0f) {
        parallel_for(0, n, kParallelGrain, [=](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) w[i] -= lr * g[i];
        });
        return;
    }
    const float m = options_.momentum;
    const bool nesterov = options_.nesterov;
    float* v = slot(0, index).data();
    parallel_for(0, n, kParallelGrain, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) {
            v[i] = m * v[i] - lr * g[i];
            w[i] += nesterov ? m * v[i] - lr * g[i] : v[i];
        }
    });
}

}  // namespace xg
