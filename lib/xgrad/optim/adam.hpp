#pragma once
// Adam as Keras defines it (epsilon outside the square root, bias correction folded into lr):
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  w -= lr_t m / (sqrt(v) + eps)
#include "xgrad/optim/optimizer.hpp"

namespace xg {

struct AdamOptions {
    float learning_rate = 0.001f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-7f;
};

class Adam : public Optimizer {
public:
    explicit Adam(std::vector<Tensor> parameters, AdamOptions options = {});

protected:
    void begin_step() override;
    void update(std::size_t index, float* w, const float* g, std::size_t n) override;

private:
    AdamOptions options_;
    float corrected_lr_ = 0.0f;
};

}  // namespace xg
