#pragma once
// Embedding: each id of a sequence (a word's index in a vocabulary) turned into a learned vector,
// like keras.layers.Embedding: the first layer of the book's text models, before Conv1D or
// Dense. The ids are whole numbers held as floats, as all of xgrad's data, so a vocabulary holds
// at most 2^24 ids (every whole number a float holds exactly). With mask_zero, id 0 is padding:
// the layer's mask (call_masked) marks the steps of other ids, and the recurrent layers and
// GlobalAveragePooling1D after it skip the padding, as Keras's do (id 0 keeps a row of its own,
// so input_dim counts it: a vocabulary of 10,000 words and padding is input_dim 10,001). Unlike
// Keras's: an id that is not a row (negative, fractional, too large) is a ValueError where Keras
// truncates or wraps it. The gradient is a whole table's, zeros where no id looked (Keras's is sparse).
#include <optional>
#include <string>

#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct EmbeddingOptions {
    /// Keras's default: uniform over [-0.05, 0.05].
    Initializer embeddings_initializer = initializers::random_uniform(-0.05f, 0.05f);
    /// Id 0 is padding: the output's mask is ids != 0.
    bool mask_zero = false;
    std::string name;  // "" -> embedding_N
};

class Embedding : public Module {
public:
    /// A vector of output_dim for each of input_dim ids: embeddings (input_dim, output_dim).
    Embedding(std::size_t input_dim, std::size_t output_dim, EmbeddingOptions options = {});

    /// ids (n, ...) -> (n, ..., output_dim); a ValueError for an id that is not a whole number
    /// from 0 to input_dim - 1.
    Tensor forward(const Tensor& ids) override;
    /// (...) -> (..., output_dim)
    Shape output_shape(const Shape& input_shape) override;
    /// input_dim, output_dim, mask_zero.
    std::optional<LayerConfig> config() const override;

    const Tensor& embeddings() const { return embeddings_; }
    std::size_t input_dim() const { return input_dim_; }
    std::size_t output_dim() const { return output_dim_; }
    bool mask_zero() const { return mask_zero_; }

protected:
    /// forward(ids) with, for mask_zero, the mask ids != 0 (none otherwise: a mask coming in is
    /// the ids', which become vectors).
    Masked forward_masked(const Tensor& ids, const Tensor& mask) override;

private:
    std::size_t input_dim_, output_dim_;
    bool mask_zero_;
    Tensor embeddings_;
};

}  // namespace xg
