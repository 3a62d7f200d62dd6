#pragma once
// Dropout: in training mode, zeroes a random `rate` of the inputs and scales the rest by
// 1 / (1 - rate); in inference mode, passes them through, like keras.layers.Dropout.
#include <optional>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

class Dropout : public Module {
public:
    /// rate in [0, 1): the probability of dropping each input; the mask comes from random_engine().
    explicit Dropout(float rate, std::string name = {});
    /// Any shape -> the same shape.
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    /// True: each element is dropped on its own.
    bool passes_mask() const override { return true; }
    /// rate.
    std::optional<LayerConfig> config() const override;
    float rate() const { return rate_; }

private:
    float rate_;
};

}  // namespace xg
