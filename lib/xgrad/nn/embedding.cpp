#include "xgrad/nn/embedding.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Embedding::Embedding(std::size_t input_dim, std::size_t output_dim, EmbeddingOptions options)
    : Module("Embedding", std::move(options.name)),
      input_dim_(input_dim),
      output_dim_(output_dim),
      mask_zero_(options.mask_zero) {
    if (input_dim == 0 || output_dim == 0) {
        throw ValueError(fmt::format("Embedding: input_dim {} and output_dim {}; expected both > 0", input_dim, output_dim));
    }
    // Ids are floats: above 2^24 some whole numbers have none of their own.
    constexpr std::size_t max_ids = std::size_t{1} << 24;
    if (input_dim > max_ids) {
        throw ValueError(fmt::format("Embedding: input_dim {}; expected at most {}, the ids a float holds exactly",
                                     input_dim, max_ids));
    }
    Array table = options.embeddings_initializer({input_dim, output_dim});
    if (table.shape() != Shape{input_dim, output_dim}) {
        throw ShapeError(fmt::format("Embedding: embeddings_initializer gave {}; expected ({}, {})",
                                     format_shape(table.shape()), input_dim, output_dim));
    }
    embeddings_ = register_parameter("embeddings", Tensor(std::move(table)));
}

Tensor Embedding::forward(const Tensor& ids) {
    if (ids.rank() == 0) {
        throw ShapeError(fmt::format("{}: ids of shape (); expected (batch, ...)", name()));
    }
    try {
        return embedding_lookup(embeddings_, ids);
    } catch (const ValueError& e) {
        throw ValueError(fmt::format("{}: {}", name(), e.what()));
    }
}

Masked Embedding::forward_masked(const Tensor& ids, const Tensor&) {
    const Tensor y = forward(ids);
    if (!mask_zero_) return {y, {}};
    if (ids.rank() != 2) {
        throw ShapeError(fmt::format("{}: ids of shape {} with mask_zero; expected (batch, steps), whose mask is "
                                     "(batch, steps)",
                                     name(), format_shape(ids.shape())));
    }
    return {y, not_equal(ids, 0.0f)};
}

Shape Embedding::output_shape(const Shape& input_shape) {
    Shape out = input_shape;
    out.push_back(output_dim());
    return out;
}

std::optional<LayerConfig> Embedding::config() const {
    return LayerConfig{{"input_dim", std::to_string(input_dim())},
                       {"output_dim", std::to_string(output_dim())},
                       {"mask_zero", mask_zero_ ? "true" : "false"}};
}

}  // namespace xg
