// Matrix products through sgemm. Backward rules pass transposes to BLAS as flags:
//   y = a . b      (m,k) . (k,n) -> (m,n)
//   da = dy . b^T  (m,n) . (n,k) -> (m,k)
//   db = a^T . dy  (k,m) . (m,n) -> (k,n)
#include <functional>
#include <numeric>

#include <fmt/format.h>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/blas.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

void check_matrix(const Tensor& t, const char* op, const char* what) {
    if (t.rank() != 2) {
        throw ShapeError(fmt::format("{}: {} has shape {}; expected a matrix (2 axes)", op, what, format_shape(t.shape())));
    }
}

// The rows of a (..., k): the product of its leading extents.
std::size_t leading_rows(const Shape& shape) {
    return std::accumulate(shape.begin(), shape.end() - 1, std::size_t{1}, std::multiplies<>());
}

// Gradients of y = a . b (+ bias) with respect to a and b, shared by matmul and linear; a's
// leading positions are the rows.
void matmul_backward(GradientContext& ctx) {
    const Array& a = ctx.input(0);
    const Array& b = ctx.input(1);
    const Array& dy = ctx.grad();
    const std::size_t m = leading_rows(a.shape()), k = b.shape(0), n = b.shape(1);
    if (ctx.wants(0)) {
        Array da = uninitialized(a.shape());
        gemm(dy.data(), b.data(), da.data(), m, k, n, false, true);
        ctx.accumulate(0, std::move(da));
    }
    if (ctx.wants(1)) {
        Array db = uninitialized({k, n});
        gemm(a.data(), dy.data(), db.data(), k, n, m, true, false);
        ctx.accumulate(1, std::move(db));
    }
}

// The same as ops: da = dy . b^T, db = a^T . dy (over a's rows, however many axes hold them).
void matmul_tensor_backward(TensorGradientContext& ctx) {
    if (ctx.wants(0)) ctx.accumulate(0, matmul(ctx.grad(), transpose(ctx.input(1))));
    if (ctx.wants(1)) {
        const Tensor& a = ctx.input(0);
        if (a.rank() == 2) {
            ctx.accumulate(1, matmul(transpose(a), ctx.grad()));
        } else {
            // Every extent given outright: an inferred one (-1) is lost when another is 0.
            const auto m = static_cast<long>(leading_rows(a.shape()));
            const long k = static_cast<long>(a.shape().back()), n = static_cast<long>(ctx.grad().shape().back());
            ctx.accumulate(1, matmul(transpose(reshape(a, {m, k})), reshape(ctx.grad(), {m, n})));
        }
    }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    if (a.rank() < 2) {
        throw ShapeError(fmt::format("matmul: left operand has shape {}; expected a matrix, or rows along a last axis "
                                     "(at least 2 axes)",
                                     format_shape(a.shape())));
    }
    check_matrix(b, "matmul", "right operand");
    const std::size_t m = leading_rows(a.shape()), k = a.shape().back(), n = b.shape()[1];
    if (b.shape()[0] != k) {
        throw ShapeError(fmt::format("matmul: cannot multiply {} by {}; expected the left's columns to equal the right's rows",
                                     format_shape(a.shape()), format_shape(b.shape())));
    }
    Shape y_shape = a.shape();
    y_shape.back() = n;
    Array y = uninitialized(y_shape);
    gemm(a.value().data(), b.value().data(), y.data(), m, n, k, false, false);
    return record_op("matmul", {a, b}, std::move(y), matmul_backward, matmul_tensor_backward);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
    check_matrix(x, "linear", "input");
    check_matrix(w, "linear", "weight");
    const std::size_t n = x.shape()[0], k = x.shape()[1], m = w.shape()[1];
    if (w.shape()[0] != k) {
        throw ShapeError(fmt::format("linear: cannot multiply {} by {}; expected the input's columns to equal the weight's rows",
                                     format_shape(x.shape()), format_shape(w.shape())));
    }
    if (b.rank() != 1 || b.shape()[0] != m) {
        throw ShapeError(fmt::format("linear: bias has shape {}; expected ({},) to match weight {}",
                                     format_shape(b.shape()), m, format_shape(w.shape())));
    }
    // Start from the bias in every row, then let sgemm add x . w on top (beta = 1).
    Array y = uninitialized({n, m});
    const float* bias = b.value().data();
    for (std::size_t r = 0; r < n; ++r) std::copy(bias, bias + m, y.data() + r * m);
    gemm(x.value().data(), w.value().data(), y.data(), n, m, k, false, false, 1.0f, 1.0f);
    return record_op("linear", {x, w, b}, std::move(y), [](GradientContext& ctx) {
        matmul_backward(ctx);
        if (ctx.wants(2)) {
            // db = column sums of dy: (n, m) -> (m,)
            const Array& dy = ctx.grad();
            const std::size_t rows = dy.shape(0), cols = dy.shape(1);
            Array db = xt::zeros<float>({cols});
            for (std::size_t r = 0; r < rows; ++r) {
                const float* row = dy.data() + r * cols;
                for (std::size_t c = 0; c < cols; ++c) db.data()[c] += row[c];
            }
            ctx.accumulate(2, std::move(db));
        }
    }, [](TensorGradientContext& ctx) {
        matmul_tensor_backward(ctx);
        if (ctx.wants(2)) ctx.accumulate(2, sum(ctx.grad(), 0));
    });
}

Tensor transpose(const Tensor& x) {
    std::vector<std::size_t> perm(x.rank());
    std::iota(perm.rbegin(), perm.rend(), std::size_t{0});
    return transpose(x, perm);
}

Tensor transpose(const Tensor& x, const std::vector<std::size_t>& perm) {
    std::vector<bool> seen(x.rank(), false);
    bool valid = perm.size() == x.rank();
    for (std::size_t p : perm) {
        if (!valid || p >= x.rank() || seen[p]) {
            valid = false;
            break;
        }
        seen[p] = true;
    }
    if (!valid) {
        throw ShapeError(fmt::format("transpose: axes ({}) are not a permutation for shape {}; expected each of 0..{} once",
                                     fmt::join(perm, ", "), format_shape(x.shape()), x.rank() == 0 ? 0 : x.rank() - 1));
    }
    Array y = xt::transpose(x.value(), perm);
    std::vector<std::size_t> inverse(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = i;
    return record_op("transpose", {x}, std::move(y), [inverse](GradientContext& ctx) {
        ctx.accumulate(0, Array(xt::transpose(ctx.grad(), inverse)));
    }, [inverse](TensorGradientContext& ctx) {
        ctx.accumulate(0, transpose(ctx.grad(), inverse));
    }, OpAttributes{{"perm", perm}});
}

}  // namespace xg
