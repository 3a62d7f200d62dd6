#include "xgrad/nn/image_crop.hpp"

#include "xgrad/core/random.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

bool holds_window(const Shape& images, Size2 size) { return images[1] >= size[0] && images[2] >= size[1]; }

LayerConfig size_config(Size2 size) {
    return {{"height", std::to_string(size[0])}, {"width", std::to_string(size[1])}};
}

Shape cropped_shape(const Shape& input_shape, Size2 size, const std::string& layer) {
    check_image_shape(input_shape, layer);
    return {size[0], size[1], input_shape[2]};
}

}  // namespace

CenterCrop::CenterCrop(std::size_t height, std::size_t width, std::string name)
    : Module("CenterCrop", std::move(name)), size_{height, width} {
    check_image_size(height, width, "CenterCrop");
}

Tensor CenterCrop::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    if (!holds_window(s, size_)) return smart_resize(x, size_);
    return crop_images(x, (s[1] - size_[0]) / 2, (s[2] - size_[1]) / 2, size_);
}

Shape CenterCrop::output_shape(const Shape& input_shape) { return cropped_shape(input_shape, size_, name()); }

std::optional<LayerConfig> CenterCrop::config() const { return size_config(size_); }

RandomCrop::RandomCrop(std::size_t height, std::size_t width, std::string name)
    : Module("RandomCrop", std::move(name)), size_{height, width} {
    check_image_size(height, width, "RandomCrop");
}

Tensor RandomCrop::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    if (!training() || !holds_window(s, size_)) return smart_resize(x, size_);
    // As Keras: one engine output per axis, reduced to the offsets the window can take.
    const std::size_t top = random_engine()() % (s[1] - size_[0] + 1);
    const std::size_t left = random_engine()() % (s[2] - size_[1] + 1);
    return crop_images(x, top, left, size_);
}

Shape RandomCrop::output_shape(const Shape& input_shape) { return cropped_shape(input_shape, size_, name()); }

std::optional<LayerConfig> RandomCrop::config() const { return size_config(size_); }

}  // namespace xg
