#pragma once
// What the callback tests share: a linear model fit to y = 3 x - 1 with a little noise, whose
// loss keeps decreasing under SGD, and quiet fit options.
#include <memory>
#include <random>
#include <vector>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/model.hpp"

namespace fixture {

struct Regression {
    xg::Array x = xg::uninitialized({32, 1});
    xg::Array y = xg::uninitialized({32, 1});
    Regression() {
        std::mt19937 engine(5);
        std::normal_distribution<float> noise(0.0f, 0.1f);
        for (std::size_t i = 0; i < 32; ++i) {
            x(i, 0) = static_cast<float>(i) / 16.0f - 1.0f;
            y(i, 0) = 3.0f * x(i, 0) - 1.0f + noise(engine);
        }
    }
};

// Dense(1, 1) compiled with SGD at `lr` and the mean squared error.
struct Setup {
    std::shared_ptr<xg::Sequential> net = std::make_shared<xg::Sequential>();
    std::unique_ptr<xg::Model> model;
    explicit Setup(float lr = 0.05f) {
        xg::manual_seed(21);
        net->emplace<xg::Dense>(1, 1);
        model = std::make_unique<xg::Model>(net);
        model->compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = lr}), "mse");
    }
};

inline xg::FitOptions quiet(std::size_t epochs, std::vector<std::shared_ptr<xg::Callback>> callbacks) {
    xg::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 8;
    o.verbose = 0;
    o.callbacks = std::move(callbacks);
    return o;
}

}  // namespace fixture
