#include "xgrad/nn/image_augmentation.hpp"

#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// A draw from [lower, upper): 53 bits of one engine output, so a seed fixes it on any platform
// (std::uniform_real_distribution's algorithm is the library's choice).
double draw_uniform(FactorRange range) {
    const double unit = static_cast<double>(random_engine()() >> 11) * 0x1.0p-53;
    return range.lower + (static_cast<double>(range.upper) - range.lower) * unit;
}

void set_row(Array& transforms, std::size_t row, const std::array<double, 6>& affine) {
    float* t = transforms.data() + 8 * row;
    for (std::size_t i = 0; i < 6; ++i) t[i] = static_cast<float>(affine[i]);
    t[6] = t[7] = 0.0f;
}

void check_range(FactorRange range, const char* kind, const char* argument) {
    if (!std::isfinite(range.lower) || !std::isfinite(range.upper) || range.upper < range.lower) {
        throw ValueError(fmt::format("{}: {} is [{}, {}]; expected finite bounds, lower <= upper (one number f "
                                     "means [-f, f], so f >= 0)",
                                     kind, argument, range.lower, range.upper));
    }
}

// Keras's bound for the factors that are fractions of the image: within [-1, 1].
void check_fraction(FactorRange range, const char* kind, const char* argument, const char* meaning) {
    check_range(range, kind, argument);
    if (range.lower < -1.0f || range.upper > 1.0f) {
        throw ValueError(fmt::format("{}: {} is [{}, {}]; expected bounds within [-1, 1] ({})", kind, argument,
                                     range.lower, range.upper, meaning));
    }
}

template <class Options>
ImageSampling sampling_of(const Options& options, const char* kind) {
    if (!std::isfinite(options.fill_value)) {
        throw ValueError(fmt::format("{}: fill_value is {}; expected a finite number", kind, options.fill_value));
    }
    const ImageSampling sampling{.interpolation = options.interpolation, .fill_mode = options.fill_mode,
                                 .fill_value = options.fill_value};
    // Now, so that a layer that could not run cannot be saved as another.
    check_sampling(sampling, kind);
    return sampling;
}

}  // namespace

std::string factor_range_text(FactorRange range) { return fmt::format("{},{}", range.lower, range.upper); }

Shape RandomImageLayer::output_shape(const Shape& input_shape) {
    check_image_shape(input_shape, name());
    return input_shape;
}

RandomImageTransform::RandomImageTransform(std::string kind, std::string name, ImageSampling sampling)
    : RandomImageLayer(std::move(kind), std::move(name)), sampling_(sampling) {}

Tensor RandomImageTransform::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    if (!training()) return x;
    return transform_images(x, draw_transforms(s[0], s[1], s[2]), sampling_);
}

LayerConfig RandomImageTransform::sampling_config() const {
    return {{"fill_mode", std::string(fill_mode_name(sampling_.fill_mode))},
            {"interpolation", std::string(interpolation_name(sampling_.interpolation))},
            {"fill_value", fmt::format("{}", sampling_.fill_value)}};
}

// ---- RandomFlip ----------------------------------------------------------------------------

std::string_view flip_mode_name(FlipMode mode) {
    switch (mode) {
    case FlipMode::horizontal: return "horizontal";
    case FlipMode::vertical: return "vertical";
    case FlipMode::horizontal_and_vertical: return "horizontal_and_vertical";
    }
    throw ValueError(fmt::format("RandomFlip: mode {}; expected horizontal, vertical or horizontal_and_vertical",
                                 static_cast<int>(mode)));
}

FlipMode parse_flip_mode(std::string_view name) {
    for (FlipMode mode : {FlipMode::horizontal, FlipMode::vertical, FlipMode::horizontal_and_vertical}) {
        if (name == flip_mode_name(mode)) return mode;
    }
    throw ValueError(fmt::format("RandomFlip: mode '{}'; expected horizontal, vertical or horizontal_and_vertical", name));
}

// A flip moves whole pixels: nearest reads them exactly.
RandomFlip::RandomFlip(FlipMode mode, std::string name)
    : RandomImageTransform("RandomFlip", std::move(name), {.interpolation = Interpolation::nearest}), mode_(mode) {
    flip_mode_name(mode);  // a value outside the enum is refused here, not flipped as both axes
}

std::optional<LayerConfig> RandomFlip::config() const {
    return LayerConfig{{"mode", std::string(flip_mode_name(mode_))}};
}

Array RandomFlip::draw_transforms(std::size_t n, std::size_t h, std::size_t w) const {
    Array transforms = uninitialized({n, 8});
    const bool horizontal = mode_ != FlipMode::vertical, vertical = mode_ != FlipMode::horizontal;
    for (std::size_t i = 0; i < n; ++i) {
        // One engine output decides both axes: bit 0 left-right, bit 1 top-bottom.
        const auto bits = random_engine()();
        const bool flip_x = horizontal && (bits & 1u), flip_y = vertical && (bits & 2u);
        set_row(transforms, i,
                {flip_x ? -1.0 : 1.0, 0.0, flip_x ? static_cast<double>(w) - 1.0 : 0.0,
                 0.0, flip_y ? -1.0 : 1.0, flip_y ? static_cast<double>(h) - 1.0 : 0.0});
    }
    return transforms;
}

// ---- RandomTranslation ---------------------------------------------------------------------

RandomTranslation::RandomTranslation(FactorRange height_factor, FactorRange width_factor, ImageAugmentationOptions options)
    : RandomImageTransform("RandomTranslation", std::move(options.name), sampling_of(options, "RandomTranslation")),
      height_(height_factor), width_(width_factor) {
    check_fraction(height_, "RandomTranslation", "height_factor", "fractions of the image");
    check_fraction(width_, "RandomTranslation", "width_factor", "fractions of the image");
}

std::optional<LayerConfig> RandomTranslation::config() const {
    LayerConfig c = sampling_config();
    c["height_factor"] = factor_range_text(height_);
    c["width_factor"] = factor_range_text(width_);
    return c;
}

Array RandomTranslation::draw_transforms(std::size_t n, std::size_t h, std::size_t w) const {
    Array transforms = uninitialized({n, 8});
    for (std::size_t i = 0; i < n; ++i) {
        const double dy = draw_uniform(height_) * static_cast<double>(h);
        const double dx = draw_uniform(width_) * static_cast<double>(w);
        // Output pixel (x, y) shows the input's (x - dx, y - dy): the image moves by (dx, dy).
        set_row(transforms, i, {1.0, 0.0, -dx, 0.0, 1.0, -dy});
    }
    return transforms;
}

// ---- RandomRotation ------------------------------------------------------------------------

RandomRotation::RandomRotation(FactorRange factor, ImageAugmentationOptions options)
    : RandomImageTransform("RandomRotation", std::move(options.name), sampling_of(options, "RandomRotation")),
      factor_(factor) {
    check_range(factor_, "RandomRotation", "factor");
}

std::optional<LayerConfig> RandomRotation::config() const {
    LayerConfig c = sampling_config();
    c["factor"] = factor_range_text(factor_);
    return c;
}

Array RandomRotation::draw_transforms(std::size_t n, std::size_t h, std::size_t w) const {
    Array transforms = uninitialized({n, 8});
    const double last_x = static_cast<double>(w) - 1.0, last_y = static_cast<double>(h) - 1.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double angle = 2.0 * std::numbers::pi * draw_uniform(factor_);
        const double cosine = std::cos(angle), sine = std::sin(angle);
        // The rotation about the image's centre ((w - 1) / 2, (h - 1) / 2), as Keras builds it.
        const double x_offset = (last_x - (cosine * last_x - sine * last_y)) / 2.0;
        const double y_offset = (last_y - (sine * last_x + cosine * last_y)) / 2.0;
        set_row(transforms, i, {cosine, -sine, x_offset, sine, cosine, y_offset});
    }
    return transforms;
}

// ---- RandomZoom ----------------------------------------------------------------------------

RandomZoom::RandomZoom(FactorRange height_factor, RandomZoomOptions options)
    : RandomImageTransform("RandomZoom", std::move(options.name), sampling_of(options, "RandomZoom")),
      height_(height_factor), width_(options.width_factor) {
    check_fraction(height_, "RandomZoom", "height_factor", "a zoom of 1 + f");
    if (width_) check_fraction(*width_, "RandomZoom", "width_factor", "a zoom of 1 + f");
}

std::optional<LayerConfig> RandomZoom::config() const {
    LayerConfig c = sampling_config();
    c["height_factor"] = factor_range_text(height_);
    if (width_) c["width_factor"] = factor_range_text(*width_);
    return c;
}

Array RandomZoom::draw_transforms(std::size_t n, std::size_t h, std::size_t w) const {
    Array transforms = uninitialized({n, 8});
    const double last_x = static_cast<double>(w) - 1.0, last_y = static_cast<double>(h) - 1.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double zoom_y = 1.0 + draw_uniform(height_);
        const double zoom_x = width_ ? 1.0 + draw_uniform(*width_) : zoom_y;
        // Scaled about the centre: output pixel (x, y) reads the input at the centre + zoom * (offset from it).
        set_row(transforms, i, {zoom_x, 0.0, last_x / 2.0 * (1.0 - zoom_x), 0.0, zoom_y, last_y / 2.0 * (1.0 - zoom_y)});
    }
    return transforms;
}

// ---- RandomBrightness and RandomContrast ---------------------------------------------------

namespace {

void check_value_range(ValueRange range, const char* kind) {
    if (!std::isfinite(range.lower) || !std::isfinite(range.upper) || !(range.lower < range.upper)) {
        throw ValueError(fmt::format("{}: value_range is [{}, {}]; expected finite bounds, lower < upper", kind,
                                     range.lower, range.upper));
    }
}

std::string value_range_text(ValueRange range) { return factor_range_text({range.lower, range.upper}); }

// (n, 1, 1, 1): one value per image, drawn by `draw`.
template <class Draw>
Tensor per_image(std::size_t n, Draw draw) {
    Array values = uninitialized({n, 1, 1, 1});
    for (std::size_t i = 0; i < n; ++i) values.data()[i] = static_cast<float>(draw());
    return constant(std::move(values));
}

}  // namespace

RandomBrightness::RandomBrightness(FactorRange factor, ImageAdjustmentOptions options)
    : RandomImageLayer("RandomBrightness", std::move(options.name)), factor_(factor), range_(options.value_range) {
    check_fraction(factor_, "RandomBrightness", "factor", "fractions of the value range");
    check_value_range(range_, "RandomBrightness");
}

Tensor RandomBrightness::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    if (!training()) return x;
    const double span = static_cast<double>(range_.upper) - range_.lower;
    return clip(x + per_image(s[0], [&] { return draw_uniform(factor_) * span; }), range_.lower, range_.upper);
}

std::optional<LayerConfig> RandomBrightness::config() const {
    return LayerConfig{{"factor", factor_range_text(factor_)}, {"value_range", value_range_text(range_)}};
}

RandomContrast::RandomContrast(float factor, ImageAdjustmentOptions options)
    : RandomContrast(factor, factor, std::move(options)) {}

RandomContrast::RandomContrast(float lower, float upper, ImageAdjustmentOptions options)
    : RandomImageLayer("RandomContrast", std::move(options.name)), lower_(lower), upper_(upper), range_(options.value_range) {
    if (!std::isfinite(lower) || !std::isfinite(upper) || lower < 0.0f || lower > 1.0f || upper < 0.0f) {
        throw ValueError(fmt::format("RandomContrast: lower {} and upper {}; expected lower within [0, 1] and upper "
                                     ">= 0 (factors 1 - lower to 1 + upper)",
                                     lower, upper));
    }
    check_value_range(range_, "RandomContrast");
}

Tensor RandomContrast::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    if (!training()) return x;
    const Tensor contrast = per_image(s[0], [&] { return 1.0 + draw_uniform({-lower_, upper_}); });
    const Tensor means = mean(mean(x, 1, true), 2, true);
    return clip((x - means) * contrast + means, range_.lower, range_.upper);
}

std::optional<LayerConfig> RandomContrast::config() const {
    return LayerConfig{{"lower", fmt::format("{}", lower_)},
                       {"upper", fmt::format("{}", upper_)},
                       {"value_range", value_range_text(range_)}};
}

}  // namespace xg
