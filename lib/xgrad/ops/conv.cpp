// 2-D convolution, channels last: x (N, H, W, C_in), kernel (KH, KW, C_in, C_out) ->
// y (N, OH, OW, C_out), lowered onto sgemm by core/conv_kernels.
//
// The gradients are ops themselves, so that every rule below is a call of a public op and the
// family is closed under differentiation (y = conv2d(x, w); A(w) is the linear map x -> y):
//   conv2d(x, w)                         dx = conv2d_backward_input(dy, w)   = A(w)^T dy
//                                        dw = conv2d_backward_kernel(x, dy)
//   conv2d_backward_input(dy, w) = A(w)^T dy, bilinear in (dy, w); since <G, A(w)^T dy> = <conv2d(G, w), dy>:
//                                        d(dy) = conv2d(G, w),  dw = conv2d_backward_kernel(G, dy)
//   conv2d_backward_kernel(x, dy), bilinear in (x, dy); since <G, it> = <conv2d(x, G), dy>:
//                                        dx = conv2d_backward_input(dy, G),  d(dy) = conv2d(x, G)
// The array rules below compute exactly those calls on arrays (the same kernels); the
// differentiable rules make the calls themselves, so a second derivative only meets these ops.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/conv_kernels.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace xg {
namespace {

void check_kernel_rank(const Shape& kernel, const char* op) {
    if (kernel.size() != 4) {
        throw ShapeError(fmt::format("{}: kernel has shape {} (rank {}); expected rank 4, (rows, columns, input channels, "
                                     "output channels)",
                                     op, format_shape(kernel), kernel.size()));
    }
}

// The geometry of a convolution of x by kernel, after checking that they fit together.
Window2d conv_geometry(const Shape& x, const Shape& kernel, Size2 strides, Padding padding, Size2 dilation,
                       const char* op) {
    check_kernel_rank(kernel, op);
    const Window2d g = window_geometry(x, {kernel[0], kernel[1]}, strides, padding, op, "kernel", dilation);
    if (kernel[2] != g.c) {
        throw ShapeError(fmt::format("{}: kernel {} has {} input channels but x {} has {}; expected equal", op,
                                     format_shape(kernel), kernel[2], format_shape(x), g.c));
    }
    return g;
}

// Sums dy (N, OH, OW, C_out) over all axes but the last: the bias gradient, in fixed blocks so
// that it does not depend on the thread count.
Array channel_sums(const Array& dy) {
    const std::size_t c = dy.shape().back(), rows = c == 0 ? 0 : dy.size() / c;
    const float* d = dy.data();
    const std::vector<float> sums = column_sums<float>(rows, c, [d, c](std::size_t r, std::size_t i) { return d[r * c + i]; });
    Array db = uninitialized({c});
    std::copy(sums.begin(), sums.end(), db.data());
    return db;
}

// The rule shared by conv2d with and without bias: inputs x, kernel (, bias).
BackwardFn conv2d_rule(const Window2d& g, std::size_t c_out) {
    return [g, c_out](GradientContext& ctx) {
        const Array& dy = ctx.grad();
        // dx = conv2d_backward_input(dy, kernel, x.shape())
        if (ctx.wants(0)) ctx.accumulate(0, conv2d_input_grad(dy.data(), ctx.input(1).data(), g, c_out));
        // dkernel = conv2d_backward_kernel(x, dy, kernel.shape())
        if (ctx.wants(1)) ctx.accumulate(1, conv2d_kernel_grad(ctx.input(0).data(), dy.data(), g, c_out));
        // dbias = sum(reshape(dy, {-1, C_out}), 0)
        if (ctx.input_count() > 2 && ctx.wants(2)) ctx.accumulate(2, channel_sums(dy));
    };
}

// The same as ops.
TensorRule conv2d_tensor_rule(Size2 strides, Padding padding, Size2 dilation) {
    return [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& dy = ctx.grad();
        const Tensor& x = ctx.input(0);
        const Tensor& kernel = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, conv2d_backward_input(dy, kernel, x.shape(), strides, padding, dilation));
        if (ctx.wants(1)) ctx.accumulate(1, conv2d_backward_kernel(x, dy, kernel.shape(), strides, padding, dilation));
        // (N, OH, OW, C_out) -> (C_out,)
        if (ctx.input_count() > 2 && ctx.wants(2)) ctx.accumulate(2, sum_to(dy, ctx.input(2).shape()));
    };
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& kernel, Size2 strides, Padding padding, Size2 dilation) {
    const Window2d g = conv_geometry(x.shape(), kernel.shape(), strides, padding, dilation, "conv2d");
    const std::size_t c_out = kernel.shape()[3];
    Array y = conv2d_forward(x.value().data(), kernel.value().data(), nullptr, g, c_out);
    return record_op("conv2d", {x, kernel}, std::move(y), conv2d_rule(g, c_out),
                     conv2d_tensor_rule(strides, padding, dilation), window_attributes(strides, padding, dilation));
}

Tensor conv2d_with_bias(const Tensor& x, const Tensor& kernel, const Tensor& bias, Size2 strides, Padding padding,
                        Size2 dilation) {
    const Window2d g = conv_geometry(x.shape(), kernel.shape(), strides, padding, dilation, "conv2d_with_bias");
    const std::size_t c_out = kernel.shape()[3];
    if (bias.shape() != Shape{c_out}) {
        throw ShapeError(fmt::format("conv2d_with_bias: bias has shape {}; expected ({},) to match kernel {}",
                                     format_shape(bias.shape()), c_out, format_shape(kernel.shape())));
    }
    Array y = conv2d_forward(x.value().data(), kernel.value().data(), bias.value().data(), g, c_out);
    return record_op("conv2d_with_bias", {x, kernel, bias}, std::move(y), conv2d_rule(g, c_out),
                     conv2d_tensor_rule(strides, padding, dilation), window_attributes(strides, padding, dilation));
}

Tensor conv2d_backward_input(const Tensor& dy, const Tensor& kernel, const Shape& x_shape, Size2 strides, Padding padding,
                             Size2 dilation) {
    const char* op = "conv2d_backward_input";
    const Window2d g = conv_geometry(x_shape, kernel.shape(), strides, padding, dilation, op);
    checked_element_count(x_shape, op);  // an asked-for shape, not one of an array that exists
    const std::size_t c_out = kernel.shape()[3];
    check_window_output_gradient(dy.shape(), g, c_out, x_shape, kernel.shape(), op);
    Array dx = conv2d_input_grad(dy.value().data(), kernel.value().data(), g, c_out);
    return record_op(op, {dy, kernel}, std::move(dx), [g, c_out](GradientContext& ctx) {
        const Array& grad = ctx.grad();  // (N, H, W, C_in)
        // d(dy) = conv2d(G, kernel)
        if (ctx.wants(0)) ctx.accumulate(0, conv2d_forward(grad.data(), ctx.input(1).data(), nullptr, g, c_out));
        // dkernel = conv2d_backward_kernel(G, dy, kernel.shape())
        if (ctx.wants(1)) ctx.accumulate(1, conv2d_kernel_grad(grad.data(), ctx.input(0).data(), g, c_out));
    }, [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& grad = ctx.grad();
        const Tensor& dy = ctx.input(0);
        const Tensor& kernel = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, conv2d(grad, kernel, strides, padding, dilation));
        if (ctx.wants(1)) ctx.accumulate(1, conv2d_backward_kernel(grad, dy, kernel.shape(), strides, padding, dilation));
    }, window_attributes(strides, padding, dilation));
}

Tensor conv2d_backward_kernel(const Tensor& x, const Tensor& dy, const Shape& kernel_shape, Size2 strides,
                              Padding padding, Size2 dilation) {
    const char* op = "conv2d_backward_kernel";
    const Window2d g = conv_geometry(x.shape(), kernel_shape, strides, padding, dilation, op);
    checked_element_count(kernel_shape, op);
    const std::size_t c_out = kernel_shape[3];
    check_window_output_gradient(dy.shape(), g, c_out, x.shape(), kernel_shape, op);
    Array dw = conv2d_kernel_grad(x.value().data(), dy.value().data(), g, c_out);
    return record_op(op, {x, dy}, std::move(dw), [g, c_out](GradientContext& ctx) {
        const Array& grad = ctx.grad();  // (KH, KW, C_in, C_out)
        // dx = conv2d_backward_input(dy, G, x.shape())
        if (ctx.wants(0)) ctx.accumulate(0, conv2d_input_grad(ctx.input(1).data(), grad.data(), g, c_out));
        // d(dy) = conv2d(x, G)
        if (ctx.wants(1)) ctx.accumulate(1, conv2d_forward(ctx.input(0).data(), grad.data(), nullptr, g, c_out));
    }, [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& grad = ctx.grad();
        const Tensor& x = ctx.input(0);
        const Tensor& dy = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, conv2d_backward_input(dy, grad, x.shape(), strides, padding, dilation));
        if (ctx.wants(1)) ctx.accumulate(1, conv2d(x, grad, strides, padding, dilation));
    }, window_attributes(strides, padding, dilation));
}

}  // namespace xg
