#pragma once
// Resizing: images brought to one size, like keras.layers.Resizing, so that a model takes
// pictures of any size; and smart_resize, Keras's resize that keeps the aspect ratio by
// cropping first (keras.utils.smart_resize), which CenterCrop and RandomCrop fall back on.
#include <optional>
#include <string>

#include "xgrad/core/image_transform.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// images (N, H, W, C) -> (N, size[0], size[1], C): the largest window of the images centred
/// on them with the target's aspect ratio (the whole of one axis), resized to size.
Tensor smart_resize(const Tensor& images, Size2 size, Interpolation interpolation = Interpolation::bilinear);

struct ResizingOptions {
    Interpolation interpolation = Interpolation::bilinear;
    /// Resize the largest centred window with the target's aspect ratio (smart_resize) instead of
    /// the whole image, which would stretch it.
    bool crop_to_aspect_ratio = false;
    std::string name;  // "" -> resizing_N
};

class Resizing : public Module {
public:
    /// height, width >= 1.
    Resizing(std::size_t height, std::size_t width, ResizingOptions options = {});
    /// (n, H, W, C) -> (n, height, width, C), in training and inference alike.
    Tensor forward(const Tensor& x) override;
    /// (H, W, C) -> (height, width, C).
    Shape output_shape(const Shape& input_shape) override;
    /// height, width, interpolation, crop_to_aspect_ratio.
    std::optional<LayerConfig> config() const override;
    Size2 size() const { return size_; }
    Interpolation interpolation() const { return interpolation_; }
    bool crop_to_aspect_ratio() const { return crop_to_aspect_ratio_; }

private:
    Size2 size_;
    Interpolation interpolation_;
    bool crop_to_aspect_ratio_;
};

}  // namespace xg
