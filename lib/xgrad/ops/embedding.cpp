// Embedding lookup: the rows of a table picked by integer ids that are data (a batch of word
// indices), not constants of the computation. Its own op rather than a gather, whose indices are
// fixed when it is recorded: exported, the ids must stay an input of the graph.
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/detail/slice_table.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor embedding_lookup(const Tensor& table, const Tensor& ids) {
    if (table.rank() != 2) {
        throw ShapeError(fmt::format("embedding_lookup: table {}; expected (rows, width)", format_shape(table.shape())));
    }
    const std::size_t rows = table.shape()[0], width = table.shape()[1];
    if (rows == 0 && ids.size() > 0) {
        throw ShapeError(fmt::format("embedding_lookup: table {} has no rows; expected at least one for ids {}",
                                     format_shape(table.shape()), format_shape(ids.shape())));
    }
    std::vector<std::size_t> picked(ids.size());
    const float* id = ids.value().data();
    for (std::size_t k = 0; k < picked.size(); ++k) {
        if (!(id[k] >= 0.0f && id[k] < static_cast<float>(rows) && id[k] == std::floor(id[k]))) {
            throw ValueError(fmt::format("embedding_lookup: id {} (element {} of ids {}); expected a whole number from 0 "
                                         "to {}",
                                         id[k], k, format_shape(ids.shape()), rows - 1));
        }
        picked[k] = static_cast<std::size_t>(id[k]);
    }
    Shape out_shape = ids.shape();
    out_shape.push_back(width);
    checked_element_count(out_shape, "embedding_lookup");
    Array y = uninitialized(out_shape);
    // The table as one block of `rows` rows: a gather along its axis 0.
    const detail::SliceTable rows_of{std::move(picked), rows, width, 1};
    rows_of.gather(table.value().data(), y.data());
    // dL/dtable: each picked row's gradient added into its row (twice for an id seen twice);
    // the ids get none.
    return record_op("embedding_lookup", {table, ids}, std::move(y), [rows_of](GradientContext& ctx) {
        ctx.accumulate_part(0, [&](float* g) { rows_of.scatter_add(ctx.grad().data(), g); });
    }, [rows_of](TensorGradientContext& ctx) {
        if (!ctx.wants(0)) return;
        const Tensor flat = reshape(ctx.grad(), {static_cast<long>(rows_of.indices.size()), static_cast<long>(rows_of.inner)});
        ctx.accumulate(0, scatter_add(flat, rows_of.indices, rows_of.extent, 0));
    });
}

}  // namespace xg
