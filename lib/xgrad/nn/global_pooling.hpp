#pragma once
// GlobalAveragePooling2D and GlobalMaxPooling2D: each channel of a channels-last image reduced
// to one value, its mean or its maximum over every pixel, like keras.layers.GlobalAveragePooling2D
// / GlobalMaxPooling2D. The usual head of a modern convnet in place of Flatten: the dense layer
// after it sees C features whatever the image size. GlobalAveragePooling1D and GlobalMaxPooling1D
// do the same over the steps of sequences (batch, steps, channels).
#include <optional>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

struct GlobalPoolingOptions {
    /// Keep the reduced axes as extent 1: (n, 1, 1, C) for images, (n, 1, C) for sequences,
    /// instead of (n, C), as Keras's keepdims.
    bool keepdims = false;
    std::string name;  // "" -> global_average_pooling2d_N, global_max_pooling1d_N, ...
};
using GlobalPooling2DOptions = GlobalPoolingOptions;
using GlobalPooling1DOptions = GlobalPoolingOptions;

/// What the global poolings share: the input check, the shapes and the setting, for images (two
/// axes between the batch and the channels) and sequences (one).
class GlobalPooling : public Module {
public:
    /// (n, H, W, C) or (n, steps, C) -> (n, C), or with keepdims (n, 1, 1, C) or (n, 1, C).
    Tensor forward(const Tensor& x) override;
    /// The same without the batch axis.
    Shape output_shape(const Shape& input_shape) override;
    /// keepdims.
    std::optional<LayerConfig> config() const override;

    bool keepdims() const { return keepdims_; }

protected:
    enum class Reduction { mean, max };
    GlobalPooling(std::string kind, std::size_t spatial_axes, Reduction reduction, GlobalPoolingOptions options);
    /// Throws ShapeError unless `shape` (without the batch axis) is an image or a sequence, as the
    /// layer takes, with at least one position.
    void check_positions(const Shape& shape, bool with_batch) const;

private:

    std::size_t spatial_axes_;
    Reduction reduction_;
    bool keepdims_;
};

class GlobalAveragePooling2D : public GlobalPooling {
public:
    /// The mean of each channel over all pixels.
    explicit GlobalAveragePooling2D(GlobalPooling2DOptions options = {})
        : GlobalPooling("GlobalAveragePooling2D", 2, Reduction::mean, std::move(options)) {}
};

class GlobalMaxPooling2D : public GlobalPooling {
public:
    /// The maximum of each channel over all pixels; its gradient goes to one maximal pixel, and a
    /// NaN pixel is the maximum (as max_pool2d).
    explicit GlobalMaxPooling2D(GlobalPooling2DOptions options = {})
        : GlobalPooling("GlobalMaxPooling2D", 2, Reduction::max, std::move(options)) {}
};

class GlobalAveragePooling1D : public GlobalPooling {
public:
    /// The mean of each channel over all steps.
    explicit GlobalAveragePooling1D(GlobalPooling1DOptions options = {})
        : GlobalPooling("GlobalAveragePooling1D", 1, Reduction::mean, std::move(options)) {}

protected:
    /// With a mask, the mean over the steps it keeps, as Keras's (zeros for a sequence of
    /// padding alone, where Keras's divides by zero); no mask after it.
    Masked forward_masked(const Tensor& x, const Tensor& mask) override;
};

class GlobalMaxPooling1D : public GlobalPooling {
public:
    /// The maximum of each channel over all steps (the gradient to one maximal step; NaN wins).
    explicit GlobalMaxPooling1D(GlobalPooling1DOptions options = {})
        : GlobalPooling("GlobalMaxPooling1D", 1, Reduction::max, std::move(options)) {}
};

}  // namespace xg
