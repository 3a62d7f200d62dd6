#pragma once
// Where a 2-D sliding window (a convolution kernel, a pooling window) lands on a
// channels-last batch of images (N, H, W, C), with Keras's `valid` and `same` padding.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "xgrad/core/array.hpp"

namespace xg {

/// Two extents, (rows, columns): a window's size, its strides or its dilation.
using Size2 = std::array<std::size_t, 2>;

/// `valid`: the window stays inside the image; `same`: the image is padded so that the output
/// has ceil(H / stride) rows (the extra padded row/column goes at the bottom/right, as in Keras).
enum class Padding { valid, same };

/// "valid" or "same".
std::string_view padding_name(Padding padding);
/// Padding from "valid" or "same" (any other text is a ValueError naming `op`).
Padding parse_padding(std::string_view name, const char* op);

/// The pixels a window of `taps` taps (>= 1), `dilation` apart, covers from its first tap to its last.
constexpr std::size_t window_span(std::size_t taps, std::size_t dilation) { return (taps - 1) * dilation + 1; }

/// The longest span a window may have: the kernels index elements with signed offsets up to a
/// span past the input, and no image or sequence is near this.
inline constexpr std::size_t kMaxWindowSpan = std::size_t{1} << 31;
/// Whether `taps` taps `dilation` apart (dilation >= 1) span more than kMaxWindowSpan, computed
/// without overflowing.
constexpr bool window_too_long(std::size_t taps, std::size_t dilation) {
    return taps > 0 && dilation > 1 && taps - 1 > (kMaxWindowSpan - 1) / dilation;
}

/// The windows along one axis of `extent` elements: how many, and the padding before the first
/// and in all, by Keras's rules (`same`: ceil(extent / stride) windows, the padding split with the
/// odd element after). With `valid` the span must fit the extent.
struct AxisWindows {
    std::size_t count = 0, pad_before = 0, pad_total = 0;
};
AxisWindows axis_windows(std::size_t extent, std::size_t span, std::size_t stride, Padding padding);

/// The geometry of one window sliding over a (N, H, W, C) input.
struct Window2d {
    std::size_t n = 0, h = 0, w = 0, c = 0;   // input
    std::size_t kh = 0, kw = 0;               // window
    std::size_t sh = 1, sw = 1;               // strides
    std::size_t dilation_h = 1, dilation_w = 1;  // taps this far apart (a dilated, or atrous, window)
    std::size_t oh = 0, ow = 0;               // output rows and columns
    std::size_t pad_top = 0, pad_left = 0;    // implicit padding before the first row / column

    /// The rows and columns one window covers, from its first tap to its last.
    std::size_t span_h() const { return window_span(kh, dilation_h); }
    std::size_t span_w() const { return window_span(kw, dilation_w); }
};

/// Checks that a window of `size` taps, `dilation` apart, spans no more pixels than an image can
/// have: a ValueError naming `op`, `window` and `dilation_name` (the argument's name, "dilation"
/// or a layer's "dilation_rate") when a dilation is 0 or the span is too large.
void check_window_span(Size2 size, Size2 dilation, const char* op, const char* window,
                       const char* dilation_name = "dilation");

/// The geometry of window `size` moved by `strides` over x of shape `x_shape` with `padding`,
/// its taps `dilation` apart (a window of k taps then spans (k - 1) * dilation + 1 pixels).
/// Throws ShapeError naming `op` when x is not (N, H, W, C) or the window does not fit the
/// padded input, ValueError when a window extent, stride or dilation is 0 or the span is beyond
/// any image. `window` and `dilation_name` name those arguments in messages ("kernel" or a layer's
/// "kernel_size", "pool_size"; "dilation" or a layer's "dilation_rate").
Window2d window_geometry(const Shape& x_shape, Size2 size, Size2 strides, Padding padding, const char* op,
                         const char* window, Size2 dilation = {1, 1}, const char* dilation_name = "dilation");

/// Throws ShapeError naming `op` unless dy, the gradient of a convolution's output, has the shape
/// g gives that output: (N, OH, OW, `channels`). x and kernel are named in the message.
void check_window_output_gradient(const Shape& dy, const Window2d& g, std::size_t channels, const Shape& x,
                                  const Shape& kernel, const char* op);

/// Output rows (image n's rows being n * OH to n * OH + OH - 1) of a loop over g's windows worth
/// handing to another thread: about 32K floats of windows read, at least one row. A loop that
/// uses each window `uses` times (a depthwise convolution's depth multiplier) splits finer.
std::size_t window_rows_per_split(const Window2d& g, std::size_t uses = 1);
/// Whole images of such a loop worth handing to another thread, at least one: for loops that
/// add onto the input, which may be split only between images.
std::size_t window_images_per_split(const Window2d& g, std::size_t uses = 1);


}  // namespace xg
