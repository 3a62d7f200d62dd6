#pragma once
// PReLU: a leaky relu whose slope below 0 is learned, one per input element or shared along
// chosen axes, like keras.layers.PReLU (He et al. 2015).
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct PReLUOptions {
    Initializer alpha_initializer = initializers::zeros;
    /// Axes of the input, counted as Keras does (1 is the first after the batch), along which one
    /// slope is shared: {1, 2} for one slope per channel of an (N, H, W, C) image.
    std::vector<std::size_t> shared_axes;
    std::string name;  // "" -> p_re_lu_N
};

class PReLU : public Module {
public:
    /// For inputs (batch, *input_shape): a trainable alpha of input_shape, extent 1 on the shared
    /// axes, along which the input may then have any extent (as Keras's input spec fixes only the
    /// others).
    explicit PReLU(Shape input_shape, PReLUOptions options = {});

    /// x where x > 0, alpha x elsewhere: relu(x) - alpha relu(-x).
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override;
    /// input_shape, and shared_axes when there are any.
    std::optional<LayerConfig> config() const override;
    /// True: each element by its own slope.
    bool passes_mask() const override { return true; }

    const Tensor& alpha() const { return alpha_; }
    const Shape& input_shape() const { return input_shape_; }
    const std::vector<std::size_t>& shared_axes() const { return shared_axes_; }

private:
    /// Whether input axis `axis` (0 the first after the batch) is a shared one.
    bool shared(std::size_t axis) const;
    /// Whether an input's extents (without the batch axis) fit: input_shape's on the unshared axes.
    bool fits(std::span<const std::size_t> extents) const;
    /// The extents an input may have, for errors: "any, any, 3".
    std::string expected_extents() const;

    Shape input_shape_;
    std::vector<std::size_t> shared_axes_;
    Tensor alpha_;
};

}  // namespace xg
