#pragma once
// Stochastic gradient descent with optional (Nesterov) momentum, as Keras defines it:
//   v = momentum * v - lr * g;  w += v             (plain momentum)
//   w += momentum * v - lr * g  (after updating v)  (nesterov)
#include "xgrad/optim/optimizer.hpp"

namespace xg {

struct SGDOptions {
    float learning_rate = 0.01f;
    float momentum = 0.0f;
    bool nesterov = false;
};

class SGD : public Optimizer {
public:
    explicit SGD(std::vector<Tensor> parameters, SGDOptions options = {});

protected:
    void update(std::size_t index, float* w, const float* g, std::size_t n) override;

private:
    SGDOptions options_;
};

}  // namespace xg
