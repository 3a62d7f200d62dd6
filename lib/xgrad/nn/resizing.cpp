#include "xgrad/nn/resizing.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor smart_resize(const Tensor& images, Size2 size, Interpolation interpolation) {
    check_image_batch(images.shape(), "smart_resize");
    check_image_size(size[0], size[1], "smart_resize");
    const std::size_t h = images.shape()[1], w = images.shape()[2];
    // Keras's arithmetic: the products as float32, divided and truncated, so that the window is
    // the one Keras cuts; at most the image's own extent along that axis.
    auto extent = [](std::size_t across, std::size_t target_along, std::size_t target_across, std::size_t limit) {
        const auto product = static_cast<float>(static_cast<double>(across) * static_cast<double>(target_along));
        const float e = product / static_cast<float>(target_across);
        return e >= static_cast<float>(limit) ? limit : static_cast<std::size_t>(e);
    };
    const std::size_t crop_h = extent(w, size[0], size[1], h);
    const std::size_t crop_w = extent(h, size[1], size[0], w);
    if (crop_h == 0 || crop_w == 0) {
        throw ShapeError(fmt::format("smart_resize: images {} hold no window of at least one pixel with the aspect "
                                     "ratio of ({}, {}); expected images less elongated than that",
                                     format_shape(images.shape()), size[0], size[1]));
    }
    const auto top = static_cast<std::size_t>(static_cast<float>(h - crop_h) / 2.0f);
    const auto left = static_cast<std::size_t>(static_cast<float>(w - crop_w) / 2.0f);
    return resize_images(crop_images(images, top, left, {crop_h, crop_w}), size, interpolation);
}

Resizing::Resizing(std::size_t height, std::size_t width, ResizingOptions options)
    : Module("Resizing", std::move(options.name)), size_{height, width}, interpolation_(options.interpolation),
      crop_to_aspect_ratio_(options.crop_to_aspect_ratio) {
    check_image_size(height, width, "Resizing");
    interpolation_name(interpolation_);  // a value outside the enum is refused here, not saved as another
}

Tensor Resizing::forward(const Tensor& x) {
    check_image_batch(x.shape(), name());
    return crop_to_aspect_ratio_ ? smart_resize(x, size_, interpolation_) : resize_images(x, size_, interpolation_);
}

Shape Resizing::output_shape(const Shape& input_shape) {
    check_image_shape(input_shape, name());
    return {size_[0], size_[1], input_shape[2]};
}

std::optional<LayerConfig> Resizing::config() const {
    return LayerConfig{{"height", std::to_string(size_[0])},
                       {"width", std::to_string(size_[1])},
                       {"interpolation", std::string(interpolation_name(interpolation_))},
                       {"crop_to_aspect_ratio", crop_to_aspect_ratio_ ? "true" : "false"}};
}

}  // namespace xg
