#include "xgrad/nn/image_crop.hpp"

#include "xgrad/core/random.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

ImageCrop::ImageCrop(std::string kind, std::size_t height, std::size_t width, std::string name)
    : Module(kind, std::move(name)), size_{height, width} {
    check_image_size(height, width, kind.c_str());
}

Shape ImageCrop::output_shape(const Shape& input_shape) {
    check_image_shape(input_shape, name());
    return {size_[0], size_[1], input_shape[2]};
}

std::optional<LayerConfig> ImageCrop::config() const {
    return LayerConfig{{"height", std::to_string(size_[0])}, {"width", std::to_string(size_[1])}};
}

bool ImageCrop::holds_window(const Shape& images) const {
    check_image_batch(images, name());
    return images[1] >= size_[0] && images[2] >= size_[1];
}

CenterCrop::CenterCrop(std::size_t height, std::size_t width, std::string name)
    : ImageCrop("CenterCrop", height, width, std::move(name)) {}

Tensor CenterCrop::forward(const Tensor& x) {
    const Shape& s = x.shape();
    if (!holds_window(s)) return smart_resize(x, size_);
    return crop_images(x, (s[1] - size_[0]) / 2, (s[2] - size_[1]) / 2, size_);
}

RandomCrop::RandomCrop(std::size_t height, std::size_t width, std::string name)
    : ImageCrop("RandomCrop", height, width, std::move(name)) {}

Tensor RandomCrop::forward(const Tensor& x) {
    const Shape& s = x.shape();
    if (!holds_window(s) || !training()) return smart_resize(x, size_);
    // As Keras: one engine output per axis, reduced to the offsets the window can take.
    const std::size_t top = random_engine()() % (s[1] - size_[0] + 1);
    const std::size_t left = random_engine()() % (s[2] - size_[1] + 1);
    return crop_images(x, top, left, size_);
}

}  // namespace xg
