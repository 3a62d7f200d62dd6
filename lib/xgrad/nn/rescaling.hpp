#pragma once
// Rescaling: x * scale + offset, like keras.layers.Rescaling: a model that takes raw pixels
// (Rescaling(1 / 255.0) first) so that its callers, and its ONNX export, need no preprocessing.
#include <optional>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

class Rescaling : public Module {
public:
    /// scale and offset finite.
    explicit Rescaling(float scale, float offset = 0.0f, std::string name = {});
    /// Any shape -> the same shape, each value times scale plus offset.
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    /// True: a function of each element.
    bool passes_mask() const override { return true; }
    /// scale, offset.
    std::optional<LayerConfig> config() const override;
    float scale() const { return scale_; }
    float offset() const { return offset_; }

private:
    float scale_, offset_;
};

}  // namespace xg
