#pragma once
// RMSprop with the semantics and defaults of Keras 2.3 (epsilon outside the square root):
//   ms = rho * ms + (1 - rho) * g^2
//   w -= lr * g / (sqrt(ms) + eps)
// centered subtracts the squared running mean of g from ms; momentum accumulates the step:
//   mom = momentum * mom + lr * g / (sqrt(denominator) + eps);  w -= mom
#include "xgrad/optim/optimizer.hpp"

namespace xg {

struct RMSpropOptions {
    float learning_rate = 0.001f;
    float rho = 0.9f;
    float epsilon = 1e-7f;
    float momentum = 0.0f;
    bool centered = false;
};

class RMSprop : public Optimizer {
public:
    explicit RMSprop(std::vector<Tensor> parameters, RMSpropOptions options = {});
    const RMSpropOptions& options() const { return options_; }

protected:
    void update(std::size_t index, float* w, const float* g, std::size_t n) override;

private:
    RMSpropOptions options_;
    std::size_t mean_slot_ = 0, momentum_slot_ = 0;
};

}  // namespace xg
