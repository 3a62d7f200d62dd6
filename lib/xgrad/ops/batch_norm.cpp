// Batch normalization over all axes but the last: x viewed as (M, C), M = the product of the
// other extents. With mean and variance per channel (the batch's in training, the moving ones
// at inference), inv_std = 1 / sqrt(var + epsilon) and xhat = (x - mean) * inv_std:
//   y = gamma * xhat + beta
//   dbeta = sum_rows(dy),  dgamma = sum_rows(dy * xhat)
//   inference (mean, var constants):  dx = dy * gamma * inv_std
//   training (mean, var functions of x):
//     dx = gamma * inv_std / M * (M * dy - dbeta - xhat * dgamma)
// Forward and backward are fused loops over (M, C), and only the per-channel mean and inv_std
// are kept (xhat is recomputed from x). The Tensor-level rule for higher derivatives is that
// same backward written with existing ops on x2 = reshape(x, {-1, C}) and dy2 likewise:
//   mean = mean(x2, 0); xc = x2 - mean; inv_std = 1 / sqrt(mean(square(xc), 0) + epsilon);
//   xhat = xc * inv_std; dbeta = sum(dy2, 0); dgamma = sum(dy2 * xhat, 0);
//   dx = reshape(gamma * inv_std / M * (M * dy2 - dbeta - xhat * dgamma), x.shape())
// (at inference mean and inv_std are constants from the moving statistics and dx = dy2 * gamma * inv_std).
//
// The moving variance is updated with the biased batch variance (divided by M), the one that
// normalizes the batch, as Keras's BatchNormalization does (its `moments`); PyTorch uses the
// unbiased one there instead.
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

void check_channels(const Tensor& t, std::size_t c, const Shape& x, const char* what) {
    if (t.shape() != Shape{c}) {
        throw ShapeError(fmt::format("batch_norm: {} has shape {}; expected ({},), one per channel of x {}", what,
                                     format_shape(t.shape()), c, format_shape(x)));
    }
}

// Per-channel mean and biased variance of x viewed as (rows, c).
void batch_moments(const float* x, std::size_t rows, std::size_t c, std::vector<double>& mean, std::vector<double>& var) {
    mean = column_sums<double>(rows, c, [&](std::size_t r, std::size_t i) { return static_cast<double>(x[r * c + i]); });
    for (std::size_t i = 0; i < c; ++i) mean[i] /= static_cast<double>(rows);
    var = column_sums<double>(rows, c, [&](std::size_t r, std::size_t i) {
        const double d = x[r * c + i] - mean[i];
        return d * d;
    });
    for (std::size_t i = 0; i < c; ++i) var[i] /= static_cast<double>(rows);
}

// fn(r) for every row of (rows, c), ranges of rows in parallel.
template <class Fn>
void for_rows(std::size_t rows, std::size_t c, const Fn& fn) {
    parallel_for(0, rows, rows_per_split(c), [&](std::size_t lo, std::size_t hi) {
        for (std::size_t r = lo; r < hi; ++r) fn(r);
    });
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                  const Tensor& moving_variance, bool training, float momentum, float epsilon) {
    const Shape& shape = x.shape();
    if (shape.size() < 2) {
        throw ShapeError(fmt::format("batch_norm: x has shape {} (rank {}); expected rank >= 2, channels last",
                                     format_shape(shape), shape.size()));
    }
    const std::size_t c = shape.back(), rows = c == 0 ? 0 : x.size() / c;
    check_channels(gamma, c, shape, "gamma");
    check_channels(beta, c, shape, "beta");
    check_channels(moving_mean, c, shape, "moving_mean");
    check_channels(moving_variance, c, shape, "moving_variance");
    if (!(momentum >= 0.0f && momentum <= 1.0f)) {
        throw ValueError(fmt::format("batch_norm: momentum is {}; expected 0 <= momentum <= 1", momentum));
    }
    if (!(epsilon > 0.0f)) throw ValueError(fmt::format("batch_norm: epsilon is {}; expected > 0", epsilon));
    if (training && rows == 0 && c > 0) {
        throw ShapeError(fmt::format("batch_norm: x {} holds no rows; expected at least one in training (the batch "
                                     "statistics need them)",
                                     format_shape(shape)));
    }

    Array mean = uninitialized({c}), inv_std = uninitialized({c});
    if (training) {
        std::vector<double> m, v;
        batch_moments(x.value().data(), rows, c, m, v);
        // Not recorded: the moving statistics are state, not part of the graph.
        Tensor mm = moving_mean, mv = moving_variance;
        float* mmv = mm.mutable_value().data();
        float* mvv = mv.mutable_value().data();
        for (std::size_t i = 0; i < c; ++i) {
            mean(i) = static_cast<float>(m[i]);
            inv_std(i) = static_cast<float>(1.0 / std::sqrt(v[i] + static_cast<double>(epsilon)));
            mmv[i] = mmv[i] * momentum + static_cast<float>(m[i]) * (1.0f - momentum);
            mvv[i] = mvv[i] * momentum + static_cast<float>(v[i]) * (1.0f - momentum);
        }
    } else {
        const float* mmv = moving_mean.value().data();
        const float* mvv = moving_variance.value().data();
        for (std::size_t i = 0; i < c; ++i) {
            mean(i) = mmv[i];
            inv_std(i) = 1.0f / std::sqrt(mvv[i] + epsilon);
        }
    }

    // y = x * scale + shift with scale = gamma * inv_std, shift = beta - mean * scale.
    Array y = uninitialized(shape);
    {
        std::vector<float> scale(c), shift(c);
        for (std::size_t i = 0; i < c; ++i) {
            scale[i] = gamma.value()(i) * inv_std(i);
            shift[i] = beta.value()(i) - mean(i) * scale[i];
        }
        const float* in = x.value().data();
        float* out = y.data();
        for_rows(rows, c, [&](std::size_t r) {
            for (std::size_t i = 0; i < c; ++i) out[r * c + i] = in[r * c + i] * scale[i] + shift[i];
        });
    }

    // The differentiable rule: the formulas above with ops (see the top of this file).
    const long rows_l = static_cast<long>(rows), c_l = static_cast<long>(c);
    const std::vector<long> x_shape(shape.begin(), shape.end());
    auto tensor_rule = [training, epsilon, rows_l, c_l, x_shape, fixed_mean = mean, fixed_inv_std = inv_std](
                           TensorGradientContext& ctx) {
        const Tensor x2 = reshape(ctx.input(0), {rows_l, c_l});   // (M, C)
        const Tensor dy2 = reshape(ctx.grad(), {rows_l, c_l});    // (M, C)
        const Tensor& g = ctx.input(1);                           // gamma (C,)
        Tensor xhat, scale;                                       // (M, C), (C,)
        if (training) {
            const Tensor xc = x2 - xg::mean(x2, 0);
            scale = 1.0f / sqrt(xg::mean(square(xc), 0) + epsilon);
            xhat = xc * scale;
        } else {
            scale = constant(fixed_inv_std);
            xhat = (x2 - constant(fixed_mean)) * scale;
        }
        const Tensor dbeta = sum(dy2, 0);
        const Tensor dgamma = sum(dy2 * xhat, 0);
        if (ctx.wants(0)) {
            const Tensor dx2 = training ? g * scale / static_cast<float>(rows_l) *
                                              (static_cast<float>(rows_l) * dy2 - dbeta - xhat * dgamma)
                                        : dy2 * (g * scale);
            ctx.accumulate(0, reshape(dx2, x_shape));
        }
        if (ctx.wants(1)) ctx.accumulate(1, dgamma);
        if (ctx.wants(2)) ctx.accumulate(2, dbeta);
    };
    auto rule = [mean = std::move(mean), inv_std = std::move(inv_std), training, rows, c](GradientContext& ctx) {
        const float* dy = ctx.grad().data();
        const float* in = ctx.input(0).data();
        const Array& gamma = ctx.input(1);
        // dbeta and dgamma, needed for dx in training as well.
        const std::vector<double> dbeta =
            column_sums<double>(rows, c, [&](std::size_t r, std::size_t i) { return static_cast<double>(dy[r * c + i]); });
        const std::vector<double> dgamma = column_sums<double>(rows, c, [&](std::size_t r, std::size_t i) {
            return static_cast<double>(dy[r * c + i] * (in[r * c + i] - mean(i)) * inv_std(i));
        });
        if (ctx.wants(0)) {
            Array dx = uninitialized(ctx.input(0).shape());
            float* out = dx.data();
            if (training) {
                const float m = static_cast<float>(rows);
                std::vector<float> sum_dy(c), sum_dy_xhat(c);
                for (std::size_t i = 0; i < c; ++i) {
                    sum_dy[i] = static_cast<float>(dbeta[i]);
                    sum_dy_xhat[i] = static_cast<float>(dgamma[i]);
                }
                for_rows(rows, c, [&](std::size_t r) {
                    for (std::size_t i = 0; i < c; ++i) {
                        const float xhat = (in[r * c + i] - mean(i)) * inv_std(i);
                        out[r * c + i] = gamma(i) * inv_std(i) / m * (m * dy[r * c + i] - sum_dy[i] - xhat * sum_dy_xhat[i]);
                    }
                });
            } else {
                for_rows(rows, c, [&](std::size_t r) {
                    for (std::size_t i = 0; i < c; ++i) out[r * c + i] = dy[r * c + i] * gamma(i) * inv_std(i);
                });
            }
            ctx.accumulate(0, std::move(dx));
        }
        if (ctx.wants(1)) {
            Array g = uninitialized({c});
            for (std::size_t i = 0; i < c; ++i) g(i) = static_cast<float>(dgamma[i]);
            ctx.accumulate(1, std::move(g));
        }
        if (ctx.wants(2)) {
            Array g = uninitialized({c});
            for (std::size_t i = 0; i < c; ++i) g(i) = static_cast<float>(dbeta[i]);
            ctx.accumulate(2, std::move(g));
        }
    };
    return record_op("batch_norm", {x, gamma, beta}, std::move(y), std::move(rule), std::move(tensor_rule),
                     OpAttributes{{"mode", training ? "training" : "inference"}, {"momentum", momentum}, {"epsilon", epsilon}});
}

}  // namespace xg
