// Depthwise 2-D convolution, channels last: x (N, H, W, C), kernel (KH, KW, C, M) ->
// y (N, OH, OW, C*M), computed by core/depthwise_kernels.
//
// Bilinear in (x, w) like conv2d, so its family closes under differentiation the same way
// (y = depthwise_conv2d(x, w); A(w) is the linear map x -> y):
//   depthwise_conv2d(x, w)                  dx = depthwise_conv2d_backward_input(dy, w)   = A(w)^T dy
//                                           dw = depthwise_conv2d_backward_kernel(x, dy)
//   depthwise_conv2d_backward_input(dy, w) = A(w)^T dy; since <G, A(w)^T dy> = <depthwise_conv2d(G, w), dy>:
//                                           d(dy) = depthwise_conv2d(G, w),  dw = depthwise_conv2d_backward_kernel(G, dy)
//   depthwise_conv2d_backward_kernel(x, dy); since <G, it> = <depthwise_conv2d(x, G), dy>:
//                                           dx = depthwise_conv2d_backward_input(dy, G),  d(dy) = depthwise_conv2d(x, G)
// The array rules compute those calls on arrays (the same kernels); the differentiable rules
// make the calls themselves, so a second derivative only meets these ops.
#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/depthwise_kernels.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace xg {
namespace {

// The geometry of a depthwise convolution of x by kernel, after checking that they fit together.
Window2d depthwise_geometry(const Shape& x, const Shape& kernel, Size2 strides, Padding padding, Size2 dilation,
                            const char* op) {
    if (kernel.size() != 4) {
        throw ShapeError(fmt::format("{}: kernel has shape {} (rank {}); expected rank 4, (rows, columns, channels, "
                                     "depth multiplier)",
                                     op, format_shape(kernel), kernel.size()));
    }
    const Window2d g = window_geometry(x, {kernel[0], kernel[1]}, strides, padding, op, "kernel", dilation);
    if (kernel[2] != g.c) {
        throw ShapeError(fmt::format("{}: kernel {} has {} channels but x {} has {}; expected equal", op,
                                     format_shape(kernel), kernel[2], format_shape(x), g.c));
    }
    return g;
}

// The rule shared by depthwise_conv2d with and without bias: inputs x, kernel (, bias).
BackwardFn depthwise_rule(const Window2d& g, std::size_t m) {
    return [g, m](GradientContext& ctx) {
        const Array& dy = ctx.grad();
        // dx = depthwise_conv2d_backward_input(dy, kernel, x.shape())
        if (ctx.wants(0)) ctx.accumulate(0, depthwise_input_grad(dy.data(), ctx.input(1).data(), g, m));
        // dkernel = depthwise_conv2d_backward_kernel(x, dy, kernel.shape())
        if (ctx.wants(1)) ctx.accumulate(1, depthwise_kernel_grad(ctx.input(0).data(), dy.data(), g, m));
        // dbias = dy summed over all axes but the last
        if (ctx.input_count() > 2 && ctx.wants(2)) {
            const std::size_t cm = g.c * m, pixels = cm == 0 ? 0 : dy.size() / cm;
            Array db = xt::zeros<float>({cm});
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t j = 0; j < cm; ++j) db.data()[j] += dy.data()[p * cm + j];
            ctx.accumulate(2, std::move(db));
        }
    };
}

// The same rules written with the ops themselves, so that the gradient can be differentiated again.
TensorRule depthwise_tensor_rule(Size2 strides, Padding padding, Size2 dilation) {
    return [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& dy = ctx.grad();
        const Tensor& x = ctx.input(0);
        const Tensor& kernel = ctx.input(1);
        if (ctx.wants(0)) {
            ctx.accumulate(0, depthwise_conv2d_backward_input(dy, kernel, x.shape(), strides, padding, dilation));
        }
        if (ctx.wants(1)) {
            ctx.accumulate(1, depthwise_conv2d_backward_kernel(x, dy, kernel.shape(), strides, padding, dilation));
        }
        if (ctx.input_count() > 2 && ctx.wants(2)) ctx.accumulate(2, sum_to(dy, ctx.input(2).shape()));
    };
}

}  // namespace

Tensor depthwise_conv2d(const Tensor& x, const Tensor& kernel, Size2 strides, Padding padding, Size2 dilation) {
    const Window2d g = depthwise_geometry(x.shape(), kernel.shape(), strides, padding, dilation, "depthwise_conv2d");
    const std::size_t m = kernel.shape()[3];
    Array y = depthwise_forward(x.value().data(), kernel.value().data(), nullptr, g, m);
    return record_op("depthwise_conv2d", {x, kernel}, std::move(y), depthwise_rule(g, m),
                     depthwise_tensor_rule(strides, padding, dilation), window_attributes(strides, padding, dilation));
}

Tensor depthwise_conv2d_with_bias(const Tensor& x, const Tensor& kernel, const Tensor& bias, Size2 strides,
                                  Padding padding, Size2 dilation) {
    const char* op = "depthwise_conv2d_with_bias";
    const Window2d g = depthwise_geometry(x.shape(), kernel.shape(), strides, padding, dilation, op);
    const std::size_t m = kernel.shape()[3];
    if (bias.shape() != Shape{g.c * m}) {
        throw ShapeError(fmt::format("{}: bias has shape {}; expected ({},), channels times depth multiplier of kernel {}",
                                     op, format_shape(bias.shape()), g.c * m, format_shape(kernel.shape())));
    }
    Array y = depthwise_forward(x.value().data(), kernel.value().data(), bias.value().data(), g, m);
    return record_op(op, {x, kernel, bias}, std::move(y), depthwise_rule(g, m),
                     depthwise_tensor_rule(strides, padding, dilation), window_attributes(strides, padding, dilation));
}

Tensor depthwise_conv2d_backward_input(const Tensor& dy, const Tensor& kernel, const Shape& x_shape, Size2 strides,
                                       Padding padding, Size2 dilation) {
    const char* op = "depthwise_conv2d_backward_input";
    const Window2d g = depthwise_geometry(x_shape, kernel.shape(), strides, padding, dilation, op);
    checked_element_count(x_shape, op);  // an asked-for shape, not one of an array that exists
    const std::size_t m = kernel.shape()[3];
    check_window_output_gradient(dy.shape(), g, g.c * m, x_shape, kernel.shape(), op);
    Array dx = depthwise_input_grad(dy.value().data(), kernel.value().data(), g, m);
    return record_op(op, {dy, kernel}, std::move(dx), [g, m](GradientContext& ctx) {
        const Array& grad = ctx.grad();  // (N, H, W, C)
        // d(dy) = depthwise_conv2d(G, kernel)
        if (ctx.wants(0)) ctx.accumulate(0, depthwise_forward(grad.data(), ctx.input(1).data(), nullptr, g, m));
        // dkernel = depthwise_conv2d_backward_kernel(G, dy, kernel.shape())
        if (ctx.wants(1)) ctx.accumulate(1, depthwise_kernel_grad(grad.data(), ctx.input(0).data(), g, m));
    }, [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& grad = ctx.grad();
        const Tensor& dy = ctx.input(0);
        const Tensor& kernel = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, depthwise_conv2d(grad, kernel, strides, padding, dilation));
        if (ctx.wants(1)) {
            ctx.accumulate(1, depthwise_conv2d_backward_kernel(grad, dy, kernel.shape(), strides, padding, dilation));
        }
    }, window_attributes(strides, padding, dilation));
}

Tensor depthwise_conv2d_backward_kernel(const Tensor& x, const Tensor& dy, const Shape& kernel_shape, Size2 strides,
                                        Padding padding, Size2 dilation) {
    const char* op = "depthwise_conv2d_backward_kernel";
    const Window2d g = depthwise_geometry(x.shape(), kernel_shape, strides, padding, dilation, op);
    checked_element_count(kernel_shape, op);
    const std::size_t m = kernel_shape[3];
    check_window_output_gradient(dy.shape(), g, g.c * m, x.shape(), kernel_shape, op);
    Array dw = depthwise_kernel_grad(x.value().data(), dy.value().data(), g, m);
    return record_op(op, {x, dy}, std::move(dw), [g, m](GradientContext& ctx) {
        const Array& grad = ctx.grad();  // (KH, KW, C, M)
        // dx = depthwise_conv2d_backward_input(dy, G, x.shape())
        if (ctx.wants(0)) ctx.accumulate(0, depthwise_input_grad(ctx.input(1).data(), grad.data(), g, m));
        // d(dy) = depthwise_conv2d(x, G)
        if (ctx.wants(1)) ctx.accumulate(1, depthwise_forward(ctx.input(0).data(), grad.data(), nullptr, g, m));
    }, [strides, padding, dilation](TensorGradientContext& ctx) {
        const Tensor& grad = ctx.grad();
        const Tensor& x = ctx.input(0);
        const Tensor& dy = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, depthwise_conv2d_backward_input(dy, grad, x.shape(), strides, padding, dilation));
        if (ctx.wants(1)) ctx.accumulate(1, depthwise_conv2d(x, grad, strides, padding, dilation));
    }, window_attributes(strides, padding, dilation));
}

}  // namespace xg
