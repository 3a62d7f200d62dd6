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

struct GlobalPooling2DOptions {
    /// Keep the spatial axes as extent 1: (n, 1, 1, C) instead of (n, C), as Keras's keepdims.
    bool keepdims = false;
    std::string name;  // "" -> global_average_pooling2d_N / global_max_pooling2d_N
};

/// What the two global poolings share: the input check, the shapes and the setting.
class GlobalPooling2D : public Module {
public:
    /// (n, H, W, C) -> (n, C), or (n, 1, 1, C) with keepdims.
    Tensor forward(const Tensor& x) override;
    /// (H, W, C) -> (C,), or (1, 1, C) with keepdims.
    Shape output_shape(const Shape& input_shape) override;
    /// keepdims.
    std::optional<LayerConfig> config() const override;

    bool keepdims() const { return keepdims_; }

protected:
    GlobalPooling2D(std::string kind, GlobalPooling2DOptions options);
    /// The reduction itself, over axis 1 of the image's pixels as rows: (n, H W, C) -> (n, C).
    virtual Tensor reduce_pixels(const Tensor& pixels) const = 0;

private:
    bool keepdims_;
};

class GlobalAveragePooling2D : public GlobalPooling2D {
public:
    /// The mean of each channel over all pixels.
    explicit GlobalAveragePooling2D(GlobalPooling2DOptions options = {})
        : GlobalPooling2D("GlobalAveragePooling2D", std::move(options)) {}

protected:
    Tensor reduce_pixels(const Tensor& pixels) const override;
};

class GlobalMaxPooling2D : public GlobalPooling2D {
public:
    /// The maximum of each channel over all pixels; its gradient goes to one maximal pixel, and a
    /// NaN pixel is the maximum (as max_pool2d).
    explicit GlobalMaxPooling2D(GlobalPooling2DOptions options = {})
        : GlobalPooling2D("GlobalMaxPooling2D", std::move(options)) {}

protected:
    Tensor reduce_pixels(const Tensor& pixels) const override;
};

struct GlobalPooling1DOptions {
    /// Keep the steps axis as extent 1: (n, 1, C) instead of (n, C), as Keras's keepdims.
    bool keepdims = false;
    std::string name;  // "" -> global_average_pooling1d_N / global_max_pooling1d_N
};

/// What the two global poolings of sequences share: the input check, the shapes and the setting.
class GlobalPooling1D : public Module {
public:
    /// (n, steps, C) -> (n, C), or (n, 1, C) with keepdims.
    Tensor forward(const Tensor& x) override;
    /// (steps, C) -> (C,), or (1, C) with keepdims.
    Shape output_shape(const Shape& input_shape) override;
    /// keepdims.
    std::optional<LayerConfig> config() const override;

    bool keepdims() const { return keepdims_; }

protected:
    GlobalPooling1D(std::string kind, GlobalPooling1DOptions options);
    /// The reduction over the steps, axis 1: (n, steps, C) -> (n, C).
    virtual Tensor reduce_steps(const Tensor& x) const = 0;

private:
    bool keepdims_;
};

class GlobalAveragePooling1D : public GlobalPooling1D {
public:
    /// The mean of each channel over all steps.
    explicit GlobalAveragePooling1D(GlobalPooling1DOptions options = {})
        : GlobalPooling1D("GlobalAveragePooling1D", std::move(options)) {}

protected:
    Tensor reduce_steps(const Tensor& x) const override;
};

class GlobalMaxPooling1D : public GlobalPooling1D {
public:
    /// The maximum of each channel over all steps (the gradient to one maximal step; NaN wins).
    explicit GlobalMaxPooling1D(GlobalPooling1DOptions options = {})
        : GlobalPooling1D("GlobalMaxPooling1D", std::move(options)) {}

protected:
    Tensor reduce_steps(const Tensor& x) const override;
};

}  // namespace xg
