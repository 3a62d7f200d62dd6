#pragma once
// Conv1D: y = activation(conv1d(x, kernel) + bias) along sequences (batch, steps, channels), like
// keras.layers.Conv1D: the book's convnets over text and time series. The kernel is Keras's
// (kernel_size, C_in, C_out); the layer runs it as a 2-D convolution over a single row. Two
// choices differ from Keras's: strides and a dilation_rate above 1 may go together (Keras
// refuses them), and a sequence of 0 steps is a ShapeError (Keras gives 0 steps out).
#include <optional>
#include <string>

#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct Conv1DOptions {
    std::string activation = "linear";
    std::size_t strides = 1;
    /// How far apart the kernel's taps are: 2 spreads a kernel of 3 over 5 steps; 1 is adjacent.
    std::size_t dilation_rate = 1;
    /// "valid" (no padding), "same" (output length ceil(steps / stride)) or "causal" (zeros before
    /// the sequence only, so that output t sees no input after step t, as WaveNet's).
    std::string padding = "valid";
    Initializer kernel_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> conv1d_N
};

class Conv1D : public Module {
public:
    /// `filters` output channels from `input_channels`: kernel (kernel_size, input_channels, filters),
    /// bias (filters,).
    Conv1D(std::size_t input_channels, std::size_t filters, std::size_t kernel_size, Conv1DOptions options = {});
    /// Shorthand: Conv1D(8, 32, 7, "relu").
    Conv1D(std::size_t input_channels, std::size_t filters, std::size_t kernel_size, const std::string& activation);

    /// (n, steps, input_channels) -> (n, output steps, filters)
    Tensor forward(const Tensor& x) override { return forward_with_logits(x).output; }
    /// (steps, input_channels) -> (output steps, filters)
    Shape output_shape(const Shape& input_shape) override;
    /// input_channels, filters, kernel_size, strides, dilation_rate, padding, activation, use_bias.
    std::optional<LayerConfig> config() const override;

    const Tensor& kernel() const { return kernel_; }
    const Tensor& bias() const { return bias_; }
    std::size_t input_channels() const { return input_channels_; }
    std::size_t filters() const { return filters_; }
    std::size_t kernel_size() const { return kernel_size_; }
    std::size_t strides() const { return strides_; }
    std::size_t dilation_rate() const { return dilation_rate_; }
    /// "valid", "same" or "causal".
    const std::string& padding() const { return padding_; }
    /// The activation's name ("linear" for none).
    const std::string& activation() const { return activation_; }

protected:
    /// activation(convolution + bias) with the pre-activation values as logits.
    Activated forward_with_logits(const Tensor& x) override;

private:
    /// The output's steps for an input of `steps`; a ShapeError when the window does not fit.
    std::size_t output_steps(std::size_t steps) const;

    std::size_t input_channels_, filters_, kernel_size_, strides_, dilation_rate_;
    std::string padding_, activation_;
    ActivationFn activation_fn_;
    Tensor kernel_, bias_;
};

}  // namespace xg
