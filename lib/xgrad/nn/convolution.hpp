#pragma once
// What the convolution layers (Conv2D, DepthwiseConv2D, SeparableConv2D) share, as Keras's
// base Conv layer does: channels-last input of a known channel count, a window with strides
// and padding, an optional bias, an activation, and the checks and shapes that follow.
#include <optional>
#include <string>

#include "xgrad/core/window.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// The settings every convolution layer takes, in one place for the derived layers' constructors.
struct ConvolutionSettings {
    std::size_t input_channels = 0;
    std::size_t output_channels = 0;
    Size2 kernel_size = {0, 0};
    Size2 strides = {1, 1};
    Size2 dilation_rate = {1, 1};
    std::string padding = "valid";
    std::string activation = "linear";
    std::string name;
};

/// The settings of a derived layer's options (any of them: each has strides, dilation_rate,
/// padding, activation and name), its name moved out of them.
template <class Options>
ConvolutionSettings convolution_settings(std::size_t input_channels, std::size_t output_channels, Size2 kernel_size,
                                         Options& options) {
    return {.input_channels = input_channels,
            .output_channels = output_channels,
            .kernel_size = kernel_size,
            .strides = options.strides,
            .dilation_rate = options.dilation_rate,
            .padding = options.padding,
            .activation = options.activation,
            .name = std::move(options.name)};
}

class Convolution : public Module {
public:
    /// (n, H, W, input_channels) -> (n, OH, OW, output_channels)
    Tensor forward(const Tensor& x) override { return forward_with_logits(x).output; }
    /// (H, W, input_channels) -> (OH, OW, output_channels)
    Shape output_shape(const Shape& input_shape) override;
    /// input_channels, kernel_size, strides, dilation_rate, padding, activation, use_bias, and the layer's own
    /// (layer_config).
    std::optional<LayerConfig> config() const override;

    const Tensor& bias() const { return bias_; }
    std::size_t input_channels() const { return input_channels_; }
    std::size_t output_channels() const { return output_channels_; }
    Size2 kernel_size() const { return kernel_size_; }
    Size2 strides() const { return strides_; }
    /// How far apart the kernel's taps are, (1, 1) for adjacent ones.
    Size2 dilation_rate() const { return dilation_rate_; }
    Padding padding() const { return padding_; }
    /// The activation's name ("linear" for none).
    const std::string& activation() const { return activation_; }

protected:
    /// Checks the settings (every extent, stride and dilation > 0), naming `kind` in errors.
    Convolution(std::string kind, ConvolutionSettings settings);
    /// activation(convolve(x)) with the pre-activation values as logits, after checking x.
    Activated forward_with_logits(const Tensor& x) override;
    /// The convolution and its bias, before the activation: (n, H, W, C_in) -> (n, OH, OW, C_out).
    virtual Tensor convolve(const Tensor& x) const = 0;
    /// The settings of the derived layer ("filters", "depth_multiplier").
    virtual LayerConfig layer_config() const = 0;
    /// Registers the bias (output_channels,) made by `initializer` when `use_bias`.
    void add_bias(bool use_bias, const Initializer& initializer);
    /// The output's rows and columns for an input of h x w: the window's positions (a
    /// ShapeError when it does not fit); a transposed convolution says otherwise.
    virtual Size2 output_size(std::size_t h, std::size_t w) const;

private:
    void check_input(const Shape& shape_without_batch) const;

    std::size_t input_channels_, output_channels_;
    Size2 kernel_size_, strides_, dilation_rate_;
    Padding padding_;
    std::string activation_;
    ActivationFn activation_fn_;
    Tensor bias_;
};

}  // namespace xg
