#pragma once
// Random image augmentation: RandomFlip, RandomTranslation, RandomRotation, RandomZoom,
// RandomBrightness and RandomContrast, like the keras.layers of the same names. In training mode
// each image of a batch gets its own random flip, shift, turn, zoom, brightness or contrast
// (drawn from random_engine(), so a seed repeats them); in inference mode the layers pass their
// input through. Put in front of a model, they show it a different variant of every training
// image at every epoch: the remedy for overfitting a small data set that Deep Learning with
// Python teaches next to dropout.
//
// The geometric ones are one transform_images op each, the others a few arithmetic ops:
// differentiable with respect to the images like any other op.
#include <optional>
#include <string>

#include "xgrad/core/image_transform.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// The range [lower, upper] a random factor is drawn from. One number f means [-f, f], as in Keras.
struct FactorRange {
    float lower = 0.0f, upper = 0.0f;
    FactorRange(float f) : lower(-f), upper(f) {}  // NOLINT: implicit, as Keras takes a plain number
    FactorRange(float lower_, float upper_) : lower(lower_), upper(upper_) {}
};

/// How the geometric layers read between and beyond pixels (Keras's defaults), and the layer's name.
struct ImageAugmentationOptions {
    FillMode fill_mode = FillMode::reflect;
    Interpolation interpolation = Interpolation::bilinear;
    float fill_value = 0.0f;  // what `constant` reads beyond the edge
    std::string name;         // "" -> random_rotation_N, random_zoom_N, ...
};

/// What every random image layer shares: batches of images in, the same shape out.
class RandomImageLayer : public Module {
public:
    /// (H, W, C) -> (H, W, C).
    Shape output_shape(const Shape& input_shape) override;

protected:
    using Module::Module;
};

/// What the geometric layers share: the input check, the mode switch and the transform op.
class RandomImageTransform : public RandomImageLayer {
public:
    /// Training: (n, H, W, C) -> the same shape, each image transformed at random; inference: x itself.
    Tensor forward(const Tensor& x) override;
    const ImageSampling& sampling() const { return sampling_; }

protected:
    RandomImageTransform(std::string kind, std::string name, ImageSampling sampling);
    /// One transform per image (n, 8), as transform_images takes them, for images of h x w pixels.
    virtual Array draw_transforms(std::size_t n, std::size_t h, std::size_t w) const = 0;
    /// The sampling settings as config entries (fill_mode, interpolation, fill_value).
    LayerConfig sampling_config() const;

private:
    ImageSampling sampling_;
};

enum class FlipMode { horizontal, vertical, horizontal_and_vertical };
/// "horizontal", "vertical" or "horizontal_and_vertical"; a value outside the enum is a ValueError.
std::string_view flip_mode_name(FlipMode mode);
/// FlipMode from its name (any other text is a ValueError).
FlipMode parse_flip_mode(std::string_view name);

/// Mirrors each image left to right (horizontal), top to bottom (vertical), or each of the two,
/// with probability 1/2 apiece.
class RandomFlip : public RandomImageTransform {
public:
    explicit RandomFlip(FlipMode mode = FlipMode::horizontal_and_vertical, std::string name = {});
    /// mode.
    std::optional<LayerConfig> config() const override;
    FlipMode mode() const { return mode_; }

protected:
    Array draw_transforms(std::size_t n, std::size_t h, std::size_t w) const override;

private:
    FlipMode mode_;
};

/// Shifts each image by a random fraction of its height (down for positive) and of its width
/// (right for positive), each drawn from its range within [-1, 1].
class RandomTranslation : public RandomImageTransform {
public:
    explicit RandomTranslation(FactorRange height_factor, FactorRange width_factor, ImageAugmentationOptions options = {});
    /// height_factor, width_factor and the sampling settings.
    std::optional<LayerConfig> config() const override;
    FactorRange height_factor() const { return height_; }
    FactorRange width_factor() const { return width_; }

protected:
    Array draw_transforms(std::size_t n, std::size_t h, std::size_t w) const override;

private:
    FactorRange height_, width_;
};

/// Turns each image about its centre by a random angle: factor is a fraction of a full turn
/// (0.1 means up to 36 degrees either way), positive counter-clockwise.
class RandomRotation : public RandomImageTransform {
public:
    explicit RandomRotation(FactorRange factor, ImageAugmentationOptions options = {});
    /// factor and the sampling settings.
    std::optional<LayerConfig> config() const override;
    FactorRange factor() const { return factor_; }

protected:
    Array draw_transforms(std::size_t n, std::size_t h, std::size_t w) const override;

private:
    FactorRange factor_;
};

/// RandomZoom's settings: ImageAugmentationOptions' and the width's own range. (As a second
/// parameter, an optional range made RandomZoom({-0.3f, 0.3f}) ambiguous: the braces also read
/// as the two ranges of a RandomZoom for the copy constructor.)
struct RandomZoomOptions {
    std::optional<FactorRange> width_factor;  // not given: the columns take the rows' zoom
    FillMode fill_mode = FillMode::reflect;
    Interpolation interpolation = Interpolation::bilinear;
    float fill_value = 0.0f;
    std::string name;  // "" -> random_zoom_N
};

/// Zooms each image about its centre: the output's rows cover 1 + f times the image's height,
/// f drawn from height_factor within [-1, 1] (positive zooms out: 0.25 shows the image at 1/1.25
/// of its height, the border filled by the fill mode; negative zooms in), its columns 1 + f times
/// the width with f drawn from width_factor, or the height's f when width_factor is not given.
class RandomZoom : public RandomImageTransform {
public:
    explicit RandomZoom(FactorRange height_factor, RandomZoomOptions options = {});
    /// height_factor, width_factor (when given) and the sampling settings.
    std::optional<LayerConfig> config() const override;
    FactorRange height_factor() const { return height_; }
    std::optional<FactorRange> width_factor() const { return width_; }

protected:
    Array draw_transforms(std::size_t n, std::size_t h, std::size_t w) const override;

private:
    FactorRange height_;
    std::optional<FactorRange> width_;
};

/// The values pixels take: brightness deltas are fractions of its span, and both adjustments
/// clip their output to it. Keras's default is 0 to 255.
struct ValueRange {
    float lower = 0.0f, upper = 255.0f;
};

struct ImageAdjustmentOptions {
    ValueRange value_range;
    std::string name;  // "" -> random_brightness_N, random_contrast_N
};

/// Adds to each image one delta, drawn from factor (within [-1, 1]) times the value range's
/// span, then clips to the value range: 0.2 brightens or darkens by up to a fifth of it.
class RandomBrightness : public RandomImageLayer {
public:
    explicit RandomBrightness(FactorRange factor, ImageAdjustmentOptions options = {});
    /// Training: (n, H, W, C) -> the same shape; inference: x itself.
    Tensor forward(const Tensor& x) override;
    /// factor, value_range.
    std::optional<LayerConfig> config() const override;
    FactorRange factor() const { return factor_; }
    ValueRange value_range() const { return range_; }

private:
    FactorRange factor_;
    ValueRange range_;
};

/// Scales each channel of each image about its mean over the image by a factor drawn from
/// [1 - lower, 1 + upper] (one number f: [1 - f, 1 + f]; lower within [0, 1], upper >= 0), then
/// clips to the value range. One factor per image, as Keras 3 draws them.
class RandomContrast : public RandomImageLayer {
public:
    explicit RandomContrast(float factor, ImageAdjustmentOptions options = {});
    RandomContrast(float lower, float upper, ImageAdjustmentOptions options = {});
    /// Training: (n, H, W, C) -> the same shape; inference: x itself.
    Tensor forward(const Tensor& x) override;
    /// lower, upper, value_range.
    std::optional<LayerConfig> config() const override;
    float lower() const { return lower_; }
    float upper() const { return upper_; }
    ValueRange value_range() const { return range_; }

private:
    float lower_, upper_;
    ValueRange range_;
};

/// "lower,upper", the form of a range in a layer's config.
std::string factor_range_text(FactorRange range);

}  // namespace xg
