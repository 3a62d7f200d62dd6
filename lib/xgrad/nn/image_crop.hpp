#pragma once
// CenterCrop and RandomCrop, like the keras.layers of the same names: a window of the target
// size cut from every image of a batch. Images smaller than the target on either axis are
// resized instead (smart_resize), as Keras does, so the output always has the target size.
#include <optional>
#include <string>

#include "xgrad/core/window.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// What the crop layers share: the target size, the output shape and the config.
class ImageCrop : public Module {
public:
    /// (H, W, C) -> (height, width, C).
    Shape output_shape(const Shape& input_shape) override;
    /// height, width.
    std::optional<LayerConfig> config() const override;
    Size2 size() const { return size_; }

protected:
    /// height, width >= 1.
    ImageCrop(std::string kind, std::size_t height, std::size_t width, std::string name);
    /// Whether images (n, H, W, C) hold a window of the target size; throws ShapeError naming the
    /// layer for anything but a batch of images.
    bool holds_window(const Shape& images) const;

    Size2 size_;
};

/// The central height x width window of each image (the extra row or column of an odd
/// difference falls below and to the right of it).
class CenterCrop : public ImageCrop {
public:
    CenterCrop(std::size_t height, std::size_t width, std::string name = {});
    /// (n, H, W, C) -> (n, height, width, C), in training and inference alike.
    Tensor forward(const Tensor& x) override;
};

/// In training, a height x width window at a random place, the same for the whole batch (drawn
/// from random_engine(), as Keras draws one per call); in inference, and for images smaller than
/// the window, the images resized to it (smart_resize).
class RandomCrop : public ImageCrop {
public:
    RandomCrop(std::size_t height, std::size_t width, std::string name = {});
    /// (n, H, W, C) -> (n, height, width, C).
    Tensor forward(const Tensor& x) override;
};

}  // namespace xg
