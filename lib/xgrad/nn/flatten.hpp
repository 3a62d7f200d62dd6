#pragma once
// Flatten: every sample to one row, (n, d1, d2, ...) -> (n, d1 d2 ...), like keras.layers.Flatten.
#include <optional>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

class Flatten : public Module {
public:
    explicit Flatten(std::string name = {}) : Module("Flatten", std::move(name)) {}
    /// (n, d1, d2, ...) -> (n, d1 d2 ...), in row-major (channels-last) order.
    Tensor forward(const Tensor& x) override;
    /// (d1, d2, ...) -> (d1 d2 ...,)
    Shape output_shape(const Shape& input_shape) override;
    /// No settings.
    std::optional<LayerConfig> config() const override { return LayerConfig{}; }
};

}  // namespace xg
