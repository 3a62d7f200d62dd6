// Matrix products through sgemm. Backward rules pass transposes to BLAS as flags:
//   y = a . b      (m,k) . (k,n) -> (m,n)
//   da = dy . b^T  (m,n) . (n,k) -> (m,k)
//   db = a^T . dy  (k,m) . (m,n) -> (k,n)
// for a matrix, for a stack of rows times a matrix (the rows as one matrix), and for each pair of
// matrices of two stacks.
#include <algorithm>
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

// The product of two stacks of matrices (all axes but the last two), the stacks broadcast as
// numpy's matmul does: each product is (m, k) . (k, n), and its pair of matrices is found by
// stepping through the product's stack, as a counter does, with a stride per axis for each
// operand (0 where its extent is 1 or the axis is missing). Worked out from the shapes alone, so
// that the backward works it out again rather than keep it.
struct StackedProduct {
    Shape output;  // the product's shape: its stack, then each matrix's (m, n)
    Shape stack;   // the stack stepped through
    std::vector<std::size_t> a_stride, b_stride;  // per axis of `stack`, in matrices of a and b
    std::size_t m = 0, k = 0, n = 0;              // each sgemm is (m, k) . (k, n)

    StackedProduct(const Shape& a, const Shape& b) : m(a[a.size() - 2]), k(a.back()), n(b.back()) {
        if (b[b.size() - 2] != k) {
            throw ShapeError(fmt::format("matmul: cannot multiply {} by {}; expected the left's columns to equal the "
                                         "right's rows",
                                         format_shape(a), format_shape(b)));
        }
        const Shape a_stack(a.begin(), a.end() - 2), b_stack(b.begin(), b.end() - 2);
        const std::size_t rank = std::max(a_stack.size(), b_stack.size());
        stack.assign(rank, 1);
        a_stride.assign(rank, 0);
        b_stride.assign(rank, 0);
        std::size_t a_matrices = 1, b_matrices = 1;
        for (std::size_t axis = rank; axis-- > 0;) {
            const std::size_t from_end = rank - axis;
            const std::size_t ea = from_end <= a_stack.size() ? a_stack[a_stack.size() - from_end] : 1;
            const std::size_t eb = from_end <= b_stack.size() ? b_stack[b_stack.size() - from_end] : 1;
            if (ea != eb && ea != 1 && eb != 1) {
                throw ShapeError(fmt::format("matmul: the stacks of matrices of {} and {} ({} and {}) do not broadcast; "
                                             "expected equal extents, or 1",
                                             format_shape(a), format_shape(b), format_shape(a_stack),
                                             format_shape(b_stack)));
            }
            stack[axis] = std::max(ea, eb);
            if (ea == 0 || eb == 0) stack[axis] = 0;
            if (ea != 1) a_stride[axis] = a_matrices;
            if (eb != 1) b_stride[axis] = b_matrices;
            a_matrices *= ea;
            b_matrices *= eb;
        }
        output = stack;
        output.insert(output.end(), {m, n});
        // b one matrix (its stack all 1s) under a's whole stack: a's rows are one matrix times b,
        // one sgemm (as a weight shared by a stack of rows is), so the stack steps once. Not
        // rewritten as a reshape of b: the 1s may be a batch axis traced at batch 1.
        if (b_matrices == 1 && a_stack.size() >= b_stack.size()) {
            m *= element_count(stack);
            stack.clear();
            a_stride.clear();
            b_stride.clear();
        }
    }

    bool empty() const { return m == 0 || n == 0 || k == 0; }

    // f(t, i, j) for the t-th product, of a's matrix i and b's matrix j. An empty product (m, n or
    // k 0, whose values are 0 or none) has no matrices to multiply, however long its stack.
    template <class F>
    void for_each(F f) const {
        if (empty()) return;
        const std::size_t count = element_count(stack);
        std::vector<std::size_t> position(stack.size(), 0);
        std::size_t i = 0, j = 0;
        for (std::size_t t = 0; t < count; ++t) {
            f(t, i, j);
            for (std::size_t axis = stack.size(); axis-- > 0;) {  // the next position, last axis fastest
                i += a_stride[axis];
                j += b_stride[axis];
                if (++position[axis] < stack[axis]) break;
                i -= a_stride[axis] * stack[axis];
                j -= b_stride[axis] * stack[axis];
                position[axis] = 0;
            }
        }
    }
};

// Swaps the last two axes: each matrix of a stack transposed.
Tensor transpose_matrices(const Tensor& x) {
    std::vector<std::size_t> perm(x.rank());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::swap(perm[perm.size() - 2], perm.back());
    return transpose(x, perm);
}

// matmul when b is a stack of matrices: one sgemm per product. A matrix of a or b that several
// products share (broadcast) gets the sum of their gradients, added in place.
Tensor stacked_matmul(const Tensor& a, const Tensor& b) {
    const StackedProduct product(a.shape(), b.shape());
    const std::size_t m = product.m, k = product.k, n = product.n;
    Array y = uninitialized(product.output);
    if (k == 0) std::fill(y.begin(), y.end(), 0.0f);  // sums of nothing: no product writes them
    const float *a_data = a.value().data(), *b_data = b.value().data();
    product.for_each([&](std::size_t t, std::size_t i, std::size_t j) {
        gemm(a_data + i * m * k, b_data + j * k * n, y.data() + t * m * n, m, n, k, false, false);
    });
    return record_op("matmul", {a, b}, std::move(y), [](GradientContext& ctx) {
        const Array &a = ctx.input(0), &b = ctx.input(1), &dy = ctx.grad();
        const StackedProduct product(a.shape(), b.shape());
        const std::size_t m = product.m, k = product.k, n = product.n;
        if (ctx.wants(0)) {
            Array da = xt::zeros<float>(a.shape());
            product.for_each([&](std::size_t t, std::size_t i, std::size_t j) {
                gemm(dy.data() + t * m * n, b.data() + j * k * n, da.data() + i * m * k, m, k, n, false, true, 1.0f, 1.0f);
            });
            ctx.accumulate(0, std::move(da));
        }
        if (ctx.wants(1)) {
            Array db = xt::zeros<float>(b.shape());
            product.for_each([&](std::size_t t, std::size_t i, std::size_t j) {
                gemm(a.data() + i * m * k, dy.data() + t * m * n, db.data() + j * k * n, k, n, m, true, false, 1.0f, 1.0f);
            });
            ctx.accumulate(1, std::move(db));
        }
    }, [](TensorGradientContext& ctx) {
        // In the product's stack; accumulate sums a broadcast operand's share back to its shape.
        if (ctx.wants(0)) ctx.accumulate(0, matmul(ctx.grad(), transpose_matrices(ctx.input(1))));
        if (ctx.wants(1)) ctx.accumulate(1, matmul(transpose_matrices(ctx.input(0)), ctx.grad()));
    });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    if (a.rank() < 2) {
        throw ShapeError(fmt::format("matmul: left operand has shape {}; expected a matrix, or rows along a last axis "
                                     "(at least 2 axes)",
                                     format_shape(a.shape())));
    }
    if (b.rank() < 2) {
        throw ShapeError(fmt::format("matmul: right operand has shape {}; expected a matrix, or a stack of matrices "
                                     "(at least 2 axes)",
                                     format_shape(b.shape())));
    }
    if (b.rank() > 2) return stacked_matmul(a, b);
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
