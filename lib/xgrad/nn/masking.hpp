#pragma once
// Masking: marks the padding of sequences of feature vectors, like keras.layers.Masking. A step
// whose every feature equals mask_value is padding: its features become zeros, and the layer's
// mask (call_masked) tells the recurrent layers and GlobalAveragePooling1D after it to skip it.
// The sequences of numbers that Embedding's mask_zero serves for word ids.
#include <optional>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

class Masking : public Module {
public:
    /// mask_value finite.
    explicit Masking(float mask_value = 0.0f, std::string name = {});

    /// (batch, steps, features) -> the same, the padding steps zero.
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override;
    /// mask_value.
    std::optional<LayerConfig> config() const override;
    float mask_value() const { return mask_value_; }

protected:
    /// forward(x) and the mask of its steps (1 where a feature differs from mask_value); a mask
    /// coming in is replaced, as Keras's.
    Masked forward_masked(const Tensor& x, const Tensor& mask) override;

private:
    float mask_value_;
};

}  // namespace xg
