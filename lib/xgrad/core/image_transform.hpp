#pragma once
// Projective transforms of channels-last images, as keras.layers's random image layers apply
// them (TensorFlow's ImageProjectiveTransformV3): output pixel (x, y) of image n reads the input
// at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1, from the eight
// numbers [a0, a1, a2, b0, b1, b2, c0, c1] of row n of the transforms (or of their only row).
// A point outside the image is brought back by the fill mode; with `constant`, pixels beyond
// the edge read as the fill value.
//
// For fixed transforms the output is linear in the image (plus the fill value's share), so the
// gradient is the adjoint map: each output value's weights added back onto the pixels it read.
#include <cstddef>
#include <string_view>

#include "xgrad/core/array.hpp"

namespace xg {

/// How a point between pixels is read: the nearest pixel, or the four around it weighted by distance.
enum class Interpolation { nearest, bilinear };
/// Where a point outside the image reads: reflect (d c b a | a b c d | d c b a), wrap
/// (a b c d | a b c d, as TensorFlow computes it: a tiling up to len - 1 pixels past either
/// edge; between the last pixel and the first it reads the pixel on the far side), constant
/// (the fill value), nearest (the edge pixel).
enum class FillMode { reflect, wrap, constant, nearest };

/// "nearest" or "bilinear"; a value outside the enum is a ValueError.
std::string_view interpolation_name(Interpolation interpolation);
/// "reflect", "wrap", "constant" or "nearest"; a value outside the enum is a ValueError.
std::string_view fill_mode_name(FillMode mode);
/// Interpolation from its name (any other text is a ValueError naming `op`).
Interpolation parse_interpolation(std::string_view name, const char* op);
/// FillMode from its name (any other text is a ValueError naming `op`).
FillMode parse_fill_mode(std::string_view name, const char* op);

/// How images are sampled: the interpolation, the fill mode and the fill value (read beyond the
/// edge in constant mode, and in every mode at a point at infinity). The defaults are those of
/// Keras's affine_transform; the layers default to reflect, as Keras's layers do.
struct ImageSampling {
    Interpolation interpolation = Interpolation::bilinear;
    FillMode fill_mode = FillMode::constant;
    float fill_value = 0.0f;
};

/// Throws ValueError naming `op` when the interpolation or fill mode is outside its enum (a cast integer).
void check_sampling(const ImageSampling& sampling, const char* op);

/// The sizes of one transform: images (N, H, W, C) sampled onto an (N, OH, OW, C) grid, with
/// one transform for every image or one for all.
struct ImageTransformGeometry {
    std::size_t n = 0, h = 0, w = 0, c = 0;
    std::size_t oh = 0, ow = 0;
    bool shared_transform = false;  // one row of transforms serves every image
};

/// y (N, OH, OW, C): the images x (N, H, W, C) sampled through `transforms` ((N, 8) or (1, 8)).
Array transform_images_forward(const float* x, const float* transforms, const ImageTransformGeometry& g,
                               const ImageSampling& sampling, const char* op = "transform_images");
/// dx (N, H, W, C) from dy (N, OH, OW, C): the adjoint of transform_images_forward's linear part
/// (the fill value contributes nothing). Each image's sums run in a fixed order, whatever the threads.
/// Both throw ValueError for an interpolation or fill mode outside its enum, naming `op`.
Array transform_images_adjoint(const float* dy, const float* transforms, const ImageTransformGeometry& g,
                               Interpolation interpolation, FillMode mode,
                               const char* op = "transform_images_backward");

}  // namespace xg
