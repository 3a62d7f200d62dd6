#pragma once
// MaxPooling2D and AveragePooling2D: the largest or mean value of each window of every
// channel, on channels-last images, like keras.layers.MaxPooling2D / AveragePooling2D; and
// MaxPooling1D and AveragePooling1D, the same along sequences (batch, steps, channels), which
// run as the 2-D poolings over a single row.
#include <optional>
#include <string>

#include "xgrad/core/window.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct Pooling2DOptions {
    /// (0, 0): the pool size, as Keras's strides=None.
    Size2 strides = {0, 0};
    /// "valid" (windows inside the image) or "same" (output size ceil(input / stride)).
    std::string padding = "valid";
    std::string name;  // "" -> max_pooling2d_N / average_pooling2d_N
};

/// What MaxPooling2D and AveragePooling2D share: the window and its output shape.
class Pooling2D : public Module {
public:
    /// (n, H, W, C) -> (n, OH, OW, C)
    Tensor forward(const Tensor& x) override;
    /// (H, W, C) -> (OH, OW, C)
    Shape output_shape(const Shape& input_shape) override;
    /// pool_size, strides, padding.
    std::optional<LayerConfig> config() const override;

    Size2 pool_size() const { return pool_size_; }
    Size2 strides() const { return strides_; }
    Padding padding() const { return padding_; }

protected:
    Pooling2D(std::string kind, Size2 pool_size, Pooling2DOptions options);
    /// The pooling op itself.
    virtual Tensor pool(const Tensor& x) const = 0;

private:
    Size2 pool_size_, strides_;
    Padding padding_;
};

class MaxPooling2D : public Pooling2D {
public:
    /// The maximum of each pool_size window (Keras's default (2, 2)), moved by strides.
    explicit MaxPooling2D(Size2 pool_size = {2, 2}, Pooling2DOptions options = {})
        : Pooling2D("MaxPooling2D", pool_size, std::move(options)) {}

protected:
    Tensor pool(const Tensor& x) const override;
};

class AveragePooling2D : public Pooling2D {
public:
    /// The mean of each pool_size window (Keras's default (2, 2)), moved by strides.
    explicit AveragePooling2D(Size2 pool_size = {2, 2}, Pooling2DOptions options = {})
        : Pooling2D("AveragePooling2D", pool_size, std::move(options)) {}

protected:
    Tensor pool(const Tensor& x) const override;
};

struct Pooling1DOptions {
    /// 0: the pool size, as Keras's strides=None.
    std::size_t strides = 0;
    /// "valid" (windows inside the sequence) or "same" (output length ceil(steps / stride)).
    std::string padding = "valid";
    std::string name;  // "" -> max_pooling1d_N / average_pooling1d_N
};

/// What MaxPooling1D and AveragePooling1D share: the window and its output shape.
class Pooling1D : public Module {
public:
    /// (n, steps, C) -> (n, output steps, C)
    Tensor forward(const Tensor& x) override;
    /// (steps, C) -> (output steps, C)
    Shape output_shape(const Shape& input_shape) override;
    /// pool_size, strides, padding.
    std::optional<LayerConfig> config() const override;

    std::size_t pool_size() const { return pool_size_; }
    std::size_t strides() const { return strides_; }
    Padding padding() const { return padding_; }

protected:
    Pooling1D(std::string kind, std::size_t pool_size, Pooling1DOptions options);
    /// The 2-D pooling op over the sequence as an image of one row, (n, 1, steps, C).
    virtual Tensor pool_row(const Tensor& image) const = 0;

private:
    /// The output's steps for an input of `steps`; a ShapeError when the window does not fit.
    std::size_t output_steps(std::size_t steps) const;

    std::size_t pool_size_, strides_;
    Padding padding_;
};

class MaxPooling1D : public Pooling1D {
public:
    /// The maximum of each window of pool_size steps (Keras's default 2), moved by strides.
    explicit MaxPooling1D(std::size_t pool_size = 2, Pooling1DOptions options = {})
        : Pooling1D("MaxPooling1D", pool_size, std::move(options)) {}

protected:
    Tensor pool_row(const Tensor& image) const override;
};

class AveragePooling1D : public Pooling1D {
public:
    /// The mean of each window of pool_size steps (Keras's default 2), moved by strides.
    explicit AveragePooling1D(std::size_t pool_size = 2, Pooling1DOptions options = {})
        : Pooling1D("AveragePooling1D", pool_size, std::move(options)) {}

protected:
    Tensor pool_row(const Tensor& image) const override;
};

}  // namespace xg
