#include "xgrad/core/image_transform.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {
namespace {

// A coordinate outside [0, len - 1] brought back inside by the fill mode (len >= 1). Constant
// mode leaves it outside, only bounded, so that the reads around it stay out of the image while
// the cast to an index stays defined.
template <FillMode Mode>
[[gnu::always_inline]] inline float map_coordinate(float c, std::size_t len) {
    const float last = static_cast<float>(len - 1);
    if (c >= 0.0f && c <= last) return c;
    if constexpr (Mode == FillMode::reflect) {
        if (len == 1) return 0.0f;
        // The pattern d c b a | a b c d | d c b a repeats every 2 len; fold c into one period.
        const float period = 2.0f * static_cast<float>(len);
        c = std::fmod(c, period);
        if (c < 0.0f) c = c < -static_cast<float>(len) ? c + period : -c - 1.0f;
        else if (c >= static_cast<float>(len)) c = period - c - 1.0f;
        return std::clamp(c, 0.0f, last);
    } else if constexpr (Mode == FillMode::wrap) {
        if (len == 1) return 0.0f;
        // TensorFlow's kernel, which Keras's layers run: it shifts by whole images of len pixels,
        // as many as c / (len - 1) (so points more than one image away do not land where a
        // tiling would put them); a point between the last pixel and the first reads the pixel
        // on its far side. In double, with trunc rather than TensorFlow's cast to an integer,
        // which is undefined for a coordinate beyond the integers' range.
        const double size = static_cast<double>(len), span = size - 1.0;
        double d = c;
        if (d < 0.0) d += size * (std::trunc(-d / span) + 1.0);
        else d -= size * std::trunc(d / span);
        return std::clamp(static_cast<float>(d), 0.0f, last);
    } else if constexpr (Mode == FillMode::nearest) {
        return std::clamp(c, 0.0f, last);
    } else {
        return std::clamp(c, -2.0f, last + 2.0f);
    }
}

// The pixels one output point reads (index of the pixel in its image, weight) and the weight
// of the fill value: up to four taps for bilinear, one for nearest.
struct Taps {
    std::size_t pixel[4];
    float weight[4];
    int count = 0;
    float fill_weight = 0.0f;

    [[gnu::always_inline]] void add(long y, long x, float w, const ImageTransformGeometry& g) {
        if (y >= 0 && x >= 0 && static_cast<std::size_t>(y) < g.h && static_cast<std::size_t>(x) < g.w) {
            pixel[count] = static_cast<std::size_t>(y) * g.w + static_cast<std::size_t>(x);
            weight[count++] = w;
        } else {
            fill_weight += w;
        }
    }
};

// The taps of output pixel (out_x, out_y) under transform t. A template of the interpolation and
// the fill mode, so that the per-pixel code branches on neither.
// Inlined into the loops that call it: a call per pixel would cost as much as the sampling.
template <Interpolation Interp, FillMode Mode>
[[gnu::always_inline]] inline Taps sample(std::size_t out_y, std::size_t out_x, const float* t,
                                          const ImageTransformGeometry& g) {
    Taps taps;
    const float x = static_cast<float>(out_x), y = static_cast<float>(out_y);
    const float projection = t[6] * x + t[7] * y + 1.0f;
    const float in_x = (t[0] * x + t[1] * y + t[2]) / projection;
    const float in_y = (t[3] * x + t[4] * y + t[5]) / projection;
    // A point at infinity (projection 0) or beyond any float lies outside the image.
    if (projection == 0.0f || !std::isfinite(in_x) || !std::isfinite(in_y)) {
        taps.fill_weight = 1.0f;
        return taps;
    }
    const float mx = map_coordinate<Mode>(in_x, g.w), my = map_coordinate<Mode>(in_y, g.h);
    if constexpr (Interp == Interpolation::nearest) {
        taps.add(static_cast<long>(std::round(my)), static_cast<long>(std::round(mx)), 1.0f, g);
    } else {
        const float x0 = std::floor(mx), y0 = std::floor(my);
        const float wx1 = mx - x0, wx0 = x0 + 1.0f - mx, wy1 = my - y0, wy0 = y0 + 1.0f - my;
        const long ix = static_cast<long>(x0), iy = static_cast<long>(y0);
        taps.add(iy, ix, wy0 * wx0, g);
        taps.add(iy, ix + 1, wy0 * wx1, g);
        taps.add(iy + 1, ix, wy1 * wx0, g);
        taps.add(iy + 1, ix + 1, wy1 * wx1, g);
    }
    return taps;
}

// The errors for a value outside either enum (a cast integer); `op` empty: no name before it.
[[noreturn]] void unknown_interpolation(Interpolation interpolation, std::string_view op) {
    throw ValueError(fmt::format("{}{}interpolation {}; expected bilinear or nearest", op, op.empty() ? "" : ": ",
                                 static_cast<int>(interpolation)));
}

[[noreturn]] void unknown_fill_mode(FillMode mode, std::string_view op) {
    throw ValueError(fmt::format("{}{}fill mode {}; expected reflect, wrap, constant or nearest", op,
                                 op.empty() ? "" : ": ", static_cast<int>(mode)));
}

// Calls body(interpolation, mode) with both as compile-time constants (std::integral_constant);
// a value outside either enum (a cast integer) is a ValueError naming `op` rather than an output
// left unwritten.
template <class Body>
void with_sampling(Interpolation interpolation, FillMode mode, const char* op, const Body& body) {
    auto with_mode = [&](auto interp) {
        switch (mode) {
        case FillMode::reflect: return body(interp, std::integral_constant<FillMode, FillMode::reflect>{});
        case FillMode::wrap: return body(interp, std::integral_constant<FillMode, FillMode::wrap>{});
        case FillMode::constant: return body(interp, std::integral_constant<FillMode, FillMode::constant>{});
        case FillMode::nearest: return body(interp, std::integral_constant<FillMode, FillMode::nearest>{});
        }
        unknown_fill_mode(mode, op);
    };
    switch (interpolation) {
    case Interpolation::nearest: return with_mode(std::integral_constant<Interpolation, Interpolation::nearest>{});
    case Interpolation::bilinear: return with_mode(std::integral_constant<Interpolation, Interpolation::bilinear>{});
    }
    unknown_interpolation(interpolation, op);
}

const float* transform_of(const float* transforms, std::size_t image, const ImageTransformGeometry& g) {
    return g.shared_transform ? transforms : transforms + 8 * image;
}

}  // namespace

std::string_view interpolation_name(Interpolation interpolation) {
    switch (interpolation) {
    case Interpolation::nearest: return "nearest";
    case Interpolation::bilinear: return "bilinear";
    }
    unknown_interpolation(interpolation, {});
}

std::string_view fill_mode_name(FillMode mode) {
    switch (mode) {
    case FillMode::reflect: return "reflect";
    case FillMode::wrap: return "wrap";
    case FillMode::constant: return "constant";
    case FillMode::nearest: return "nearest";
    }
    unknown_fill_mode(mode, {});
}

void check_sampling(const ImageSampling& sampling, const char* op) {
    with_sampling(sampling.interpolation, sampling.fill_mode, op, [](auto, auto) {});
}

Interpolation parse_interpolation(std::string_view name, const char* op) {
    if (name == "bilinear") return Interpolation::bilinear;
    if (name == "nearest") return Interpolation::nearest;
    throw ValueError(fmt::format("{}: interpolation '{}'; expected bilinear or nearest", op, name));
}

FillMode parse_fill_mode(std::string_view name, const char* op) {
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        if (name == fill_mode_name(mode)) return mode;
    }
    throw ValueError(fmt::format("{}: fill_mode '{}'; expected reflect, wrap, constant or nearest", op, name));
}

Array transform_images_forward(const float* x, const float* transforms, const ImageTransformGeometry& g,
                               const ImageSampling& sampling, const char* op) {
    Array y = uninitialized({g.n, g.oh, g.ow, g.c});
    float* out = y.data();
    const std::size_t c = g.c, rows = g.n * g.oh;
    if (y.size() == 0) return y;
    const float fill_value = sampling.fill_value;
    with_sampling(sampling.interpolation, sampling.fill_mode, op, [&](auto interp, auto mode) {
        // Each output value reads up to four pixels: a quarter of a simple loop's grain of them per split.
        parallel_for(0, rows, rows_per_split(4 * g.ow * c), [=](std::size_t r0, std::size_t r1) {
            for (std::size_t r = r0; r < r1; ++r) {
                const std::size_t image = r / g.oh, oy = r % g.oh;
                const float* t = transform_of(transforms, image, g);
                const float* in = x + image * g.h * g.w * c;
                for (std::size_t ox = 0; ox < g.ow; ++ox) {
                    const Taps taps = sample<interp(), mode()>(oy, ox, t, g);
                    float* o = out + (r * g.ow + ox) * c;
                    // Sums kept in registers, not added onto o: o might alias the pixels as far as the compiler knows.
                    if (taps.count == 4) {  // inside the image: most pixels
                        const float* p0 = in + taps.pixel[0] * c;
                        const float* p1 = in + taps.pixel[1] * c;
                        const float* p2 = in + taps.pixel[2] * c;
                        const float* p3 = in + taps.pixel[3] * c;
                        const float w0 = taps.weight[0], w1 = taps.weight[1], w2 = taps.weight[2], w3 = taps.weight[3];
                        for (std::size_t ch = 0; ch < c; ++ch) o[ch] = w0 * p0[ch] + w1 * p1[ch] + w2 * p2[ch] + w3 * p3[ch];
                        continue;
                    }
                    // Skipped when no weight falls outside: 0 times an infinite or NaN fill value is NaN.
                    const float fill = taps.fill_weight == 0.0f ? 0.0f : taps.fill_weight * fill_value;
                    for (std::size_t ch = 0; ch < c; ++ch) {
                        float sum = fill;
                        for (int k = 0; k < taps.count; ++k) sum += taps.weight[k] * in[taps.pixel[k] * c + ch];
                        o[ch] = sum;
                    }
                }
            }
        });
    });
    return y;
}

Array transform_images_adjoint(const float* dy, const float* transforms, const ImageTransformGeometry& g,
                               Interpolation interpolation, FillMode mode, const char* op) {
    Array dx = xt::zeros<float>({g.n, g.h, g.w, g.c});
    float* grad = dx.data();
    const std::size_t c = g.c, image_values = g.oh * g.ow * c;
    if (dx.size() == 0 || image_values == 0) return dx;
    // Several output pixels may add onto one input pixel: images are split between threads, never rows.
    const std::size_t images_per_split = rows_per_split(4 * image_values);
    with_sampling(interpolation, mode, op, [&](auto interp, auto fill_mode) {
        parallel_for(0, g.n, images_per_split, [=](std::size_t i0, std::size_t i1) {
            for (std::size_t image = i0; image < i1; ++image) {
                const float* t = transform_of(transforms, image, g);
                float* in = grad + image * g.h * g.w * c;
                const float* up = dy + image * image_values;
                for (std::size_t oy = 0; oy < g.oh; ++oy) {
                    for (std::size_t ox = 0; ox < g.ow; ++ox) {
                        const Taps taps = sample<interp(), fill_mode()>(oy, ox, t, g);
                        const float* u = up + (oy * g.ow + ox) * c;
                        for (int k = 0; k < taps.count; ++k) {
                            float* p = in + taps.pixel[k] * c;
                            const float w = taps.weight[k];
                            for (std::size_t ch = 0; ch < c; ++ch) p[ch] += w * u[ch];
                        }
                    }
                }
            }
        });
    });
    return dx;
}

}  // namespace xg
