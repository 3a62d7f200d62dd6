// Projective transforms of channels-last images (core/image_transform): the random image
// layers' op. The transforms are constants, so each op is linear in its tensor input (the fill
// value aside) and the family closes under differentiation with one pair (A the linear map):
//   transform_images(x)             = A x + fill     dx    = transform_images_backward(dy) = A^T dy
//   transform_images_backward(dy)   = A^T dy         d(dy) = A G = transform_images(G) with fill value 0
// The array rules call the kernels; the differentiable rules call the ops, so a second
// derivative only meets these two. resize_images is tf.image.resize: bilinear, recorded under its
// own name so that the graph and export_onnx (Resize) see what it is, transform_images through
// tf.image.resize's transform (its gradient that transform's adjoint):
//   resize_images(x) = R x             dx    = resize_images_backward(dy) = R^T dy
//   resize_images_backward(dy) = R^T dy   d(dy) = R G = resize_images(G)
// Nearest, two gathers (of rows and of columns, the one leaving fewer pixels first) by
// TensorFlow's own index formula, which export as they are: exactly, where a Resize node leaves
// a point between two pixels to the runtime's rounding.
#include <cmath>
#include <memory>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// The geometry of images of shape `images` sampled through `transforms` onto an output_size
// grid, after checking that they fit together.
ImageTransformGeometry transform_geometry(const Shape& images, const Array& transforms, Size2 output_size,
                                          const char* op) {
    if (images.size() != 4 || images[1] == 0 || images[2] == 0) {
        throw ShapeError(fmt::format("{}: images have shape {}; expected (batch, height, width, channels) with at "
                                     "least one pixel",
                                     op, format_shape(images)));
    }
    const Shape& t = transforms.shape();
    if (t.size() != 2 || t[1] != 8 || (t[0] != images[0] && t[0] != 1)) {
        throw ShapeError(fmt::format("{}: transforms have shape {} for images {}; expected ({}, 8) or (1, 8)", op,
                                     format_shape(t), format_shape(images), images[0]));
    }
    for (float v : transforms) {
        if (!std::isfinite(v)) throw ValueError(fmt::format("{}: a transform holds {}; expected finite numbers", op, v));
    }
    if ((output_size[0] == 0) != (output_size[1] == 0)) {
        throw ValueError(fmt::format("{}: output_size ({}, {}); expected both extents > 0, or both 0 for the "
                                     "images' own size",
                                     op, output_size[0], output_size[1]));
    }
    const bool same = output_size[0] == 0;
    const ImageTransformGeometry g{.n = images[0], .h = images[1], .w = images[2], .c = images[3],
                                   .oh = same ? images[1] : output_size[0], .ow = same ? images[2] : output_size[1],
                                   .shared_transform = t[0] == 1};
    // Both sides may come from the caller (the backward op's images_shape, an output_size).
    checked_element_count({g.n, g.h, g.w, g.c}, op);
    checked_element_count({g.n, g.oh, g.ow, g.c}, op);
    return g;
}

OpAttributes sampling_attributes(const ImageSampling& s) {
    return {{"interpolation", interpolation_name(s.interpolation)},
            {"fill_mode", fill_mode_name(s.fill_mode)},
            {"fill_value", s.fill_value}};
}

}  // namespace

Tensor transform_images(const Tensor& images, const Array& transforms, const ImageSampling& sampling,
                        Size2 output_size) {
    const ImageTransformGeometry g = transform_geometry(images.shape(), transforms, output_size, "transform_images");
    auto t = std::make_shared<const Array>(transforms);
    Array y = transform_images_forward(images.value().data(), t->data(), g, sampling);
    const Shape images_shape = images.shape();
    const Interpolation interpolation = sampling.interpolation;
    const FillMode mode = sampling.fill_mode;
    return record_op("transform_images", {images}, std::move(y), [t, g, interpolation, mode](GradientContext& ctx) {
        ctx.accumulate(0, transform_images_adjoint(ctx.grad().data(), t->data(), g, interpolation, mode,
                                                   "transform_images"));
    }, [t, images_shape, interpolation, mode](TensorGradientContext& ctx) {
        ctx.accumulate(0, transform_images_backward(ctx.grad(), *t, images_shape, interpolation, mode));
    }, sampling_attributes(sampling));
}

Tensor transform_images_backward(const Tensor& dy, const Array& transforms, const Shape& images_shape,
                                 Interpolation interpolation, FillMode mode) {
    const char* op = "transform_images_backward";
    if (dy.rank() != 4) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected (batch, rows, columns, channels)", op,
                                     format_shape(dy.shape())));
    }
    if (dy.shape()[1] == 0 || dy.shape()[2] == 0) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected at least one row and one column", op,
                                     format_shape(dy.shape())));
    }
    const Size2 output_size{dy.shape()[1], dy.shape()[2]};
    const ImageTransformGeometry g = transform_geometry(images_shape, transforms, output_size, op);
    const Shape expected{g.n, g.oh, g.ow, g.c};
    if (dy.shape() != expected) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected (batch, rows, columns, channels) with the batch "
                                     "and channels of images {}",
                                     op, format_shape(dy.shape()), format_shape(images_shape)));
    }
    auto t = std::make_shared<const Array>(transforms);
    Array dx = transform_images_adjoint(dy.value().data(), t->data(), g, interpolation, mode, op);
    const ImageSampling linear{.interpolation = interpolation, .fill_mode = mode, .fill_value = 0.0f};
    return record_op(op, {dy}, std::move(dx), [t, g, linear](GradientContext& ctx) {
        ctx.accumulate(0, transform_images_forward(ctx.grad().data(), t->data(), g, linear, "transform_images_backward"));
    }, [t, linear, output_size](TensorGradientContext& ctx) {
        ctx.accumulate(0, transform_images(ctx.grad(), *t, linear, output_size));
    }, sampling_attributes(linear));
}

namespace {

// tf.image.resize's map from output to input pixels along one axis of `from` pixels resized to
// `to`: x -> (x + 1/2) from / to - 1/2, the scale a float as TensorFlow computes it.
std::pair<float, float> half_pixel_scale(std::size_t from, std::size_t to) {
    const float scale = static_cast<float>(from) / static_cast<float>(to);
    return {scale, 0.5f * scale - 0.5f};
}

// The half-pixel transform (1, 8) of g's resize, for the bilinear path.
Array resize_transform(const ImageTransformGeometry& g) {
    Array transforms = xt::zeros<float>({1, 8});
    std::tie(transforms(0, 0), transforms(0, 2)) = half_pixel_scale(g.w, g.ow);
    std::tie(transforms(0, 4), transforms(0, 5)) = half_pixel_scale(g.h, g.oh);
    return transforms;
}

// tf.image.resize's nearest pixel along one axis: floor((o + 1/2) in / out) in float, at most
// the last. Written as TensorFlow computes it rather than through the transform (which rounds
// a point half a pixel lower), so that the ties where float rounding decides fall the same way.
std::vector<std::size_t> nearest_sources(std::size_t in, std::size_t out) {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    std::vector<std::size_t> source(out);
    for (std::size_t o = 0; o < out; ++o) {
        source[o] = std::min(static_cast<std::size_t>(std::floor((static_cast<float>(o) + 0.5f) * scale)), in - 1);
    }
    return source;
}

// Nearest resizing of one axis from extent `in` to `out`: a gather, nothing when it keeps its extent.
Tensor nearest_resize(const Tensor& images, long axis, std::size_t in, std::size_t out) {
    return in == out ? images : gather(images, nearest_sources(in, out), axis);
}

// Which axis nearest resizing gathers first: the one whose gather leaves fewer pixels between the two.
bool rows_first(const ImageTransformGeometry& g) { return g.oh * g.w <= g.h * g.ow; }

Tensor nearest_resize_backward(const Tensor& dy, long axis, std::size_t in, std::size_t out) {
    return in == out ? dy : scatter_add(dy, nearest_sources(in, out), in, axis);
}

// Bilinear resizing's sampling: edge pixels beyond the outermost centres, the fill mode that
// clamps the point to the image.
constexpr ImageSampling kBilinearResize{.interpolation = Interpolation::bilinear, .fill_mode = FillMode::nearest};

OpAttributes resize_attributes(Size2 size, Interpolation interpolation) {
    return {{"size", size}, {"interpolation", interpolation_name(interpolation)}};
}

}  // namespace

Tensor resize_images(const Tensor& images, Size2 size, Interpolation interpolation) {
    const char* op = "resize_images";
    if (size[0] == 0 || size[1] == 0) {
        throw ValueError(fmt::format("{}: size ({}, {}); expected a height and a width >= 1", op, size[0], size[1]));
    }
    check_sampling({.interpolation = interpolation}, op);
    const ImageTransformGeometry g = transform_geometry(images.shape(), xt::zeros<float>({1, 8}), size, op);
    if (g.oh == g.h && g.ow == g.w) return images;
    const Shape images_shape = images.shape();
    auto tensor_rule = [images_shape, interpolation](TensorGradientContext& ctx) {
        ctx.accumulate(0, resize_images_backward(ctx.grad(), images_shape, interpolation));
    };
    if (interpolation == Interpolation::nearest) {
        if (rows_first(g)) return nearest_resize(nearest_resize(images, 1, g.h, g.oh), 2, g.w, g.ow);
        return nearest_resize(nearest_resize(images, 2, g.w, g.ow), 1, g.h, g.oh);
    }
    auto t = std::make_shared<const Array>(resize_transform(g));
    Array y = transform_images_forward(images.value().data(), t->data(), g, kBilinearResize, op);
    return record_op(op, {images}, std::move(y), [t, g](GradientContext& ctx) {
        ctx.accumulate(0, transform_images_adjoint(ctx.grad().data(), t->data(), g, kBilinearResize.interpolation,
                                                   kBilinearResize.fill_mode, "resize_images"));
    }, tensor_rule, resize_attributes(size, interpolation));
}

Tensor resize_images_backward(const Tensor& dy, const Shape& images_shape, Interpolation interpolation) {
    const char* op = "resize_images_backward";
    check_sampling({.interpolation = interpolation}, op);
    if (dy.rank() != 4 || dy.shape()[1] == 0 || dy.shape()[2] == 0) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected (batch, rows, columns, channels) with at least "
                                     "one row and one column",
                                     op, format_shape(dy.shape())));
    }
    const Size2 size{dy.shape()[1], dy.shape()[2]};
    const ImageTransformGeometry g = transform_geometry(images_shape, xt::zeros<float>({1, 8}), size, op);
    if (dy.shape() != Shape{g.n, g.oh, g.ow, g.c}) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected the batch and channels of images {}", op,
                                     format_shape(dy.shape()), format_shape(images_shape)));
    }
    if (g.oh == g.h && g.ow == g.w) return dy;
    if (interpolation == Interpolation::bilinear) {
        return transform_images_backward(dy, resize_transform(g), images_shape, kBilinearResize.interpolation,
                                         kBilinearResize.fill_mode);
    }
    if (rows_first(g)) return nearest_resize_backward(nearest_resize_backward(dy, 2, g.w, g.ow), 1, g.h, g.oh);
    return nearest_resize_backward(nearest_resize_backward(dy, 1, g.h, g.oh), 2, g.w, g.ow);
}

Tensor crop_images(const Tensor& images, std::size_t top, std::size_t left, Size2 size) {
    const Shape& s = images.shape();
    if (s.size() != 4) {
        throw ShapeError(fmt::format("crop_images: images have shape {}; expected (batch, height, width, channels)",
                                     format_shape(s)));
    }
    if (size[0] == 0 || size[1] == 0 || top > s[1] || size[0] > s[1] - top || left > s[2] || size[1] > s[2] - left) {
        throw ShapeError(fmt::format("crop_images: a ({}, {}) window at row {}, column {} of images {}; expected a "
                                     "window of at least one pixel within their {} x {}",
                                     size[0], size[1], top, left, format_shape(s), s[1], s[2]));
    }
    Tensor y = size[0] == s[1] ? images : slice(images, 1, top, top + size[0]);
    return size[1] == s[2] ? y : slice(y, 2, left, left + size[1]);
}

}  // namespace xg
