#include "xgrad/nn/bidirectional.hpp"

#include <numeric>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/detail/initial_state.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

bool known_merge_mode(const std::string& mode) {
    return mode == "concat" || mode == "sum" || mode == "mul" || mode == "ave";
}

// `layer`'s kind built again from its settings, reading the sequence the other way, frozen when
// it is. A user's subclass is refused even when its settings rebuild its base: the copy would lose
// what the subclass changes.
std::shared_ptr<Recurrent> reversed_copy(const Recurrent& layer) {
    std::optional<LayerConfig> c = layer.config();
    std::shared_ptr<Recurrent> copy;
    if (c) {
        (*c)["go_backwards"] = layer.settings().go_backwards ? "false" : "true";
        try {
            copy = std::dynamic_pointer_cast<Recurrent>(make_layer(layer.kind(), *c, layer.name()));
        } catch (const ValueError&) {
            copy = nullptr;  // a kind the registry does not know: refused below
        }
    }
    if (copy && typeid(*copy) != typeid(layer)) copy = nullptr;
    if (copy) copy->set_trainable(layer.trainable());
    if (!copy) {
        throw ValueError(fmt::format("Bidirectional: a {} cannot be rebuilt from its settings to read the other way; "
                                     "expected a backward_layer",
                                     layer.kind()));
    }
    return copy;
}

}  // namespace

Bidirectional::Bidirectional(std::shared_ptr<Recurrent> layer, BidirectionalOptions options)
    : Module("Bidirectional", std::move(options.name)), merge_mode_(std::move(options.merge_mode)) {
    if (!layer) throw ValueError("Bidirectional: layer is null; expected a SimpleRNN, LSTM or GRU");
    if (!known_merge_mode(merge_mode_)) {
        throw ValueError(fmt::format("Bidirectional: merge_mode '{}'; expected concat, sum, mul or ave", merge_mode_));
    }
    std::shared_ptr<Recurrent> backward = options.backward_layer ? options.backward_layer : reversed_copy(*layer);
    const RecurrentSettings &f = layer->settings(), &b = backward->settings();
    if (backward->kind() != layer->kind() || backward->input_dim() != layer->input_dim() ||
        b.return_sequences != f.return_sequences || b.go_backwards == f.go_backwards) {
        throw ValueError(fmt::format(
            "Bidirectional: backward_layer is a {} of input_dim {}, return_sequences {}, go_backwards {}; expected a {} "
            "of input_dim {}, return_sequences {}, go_backwards {}",
            backward->kind(), backward->input_dim(), b.return_sequences, b.go_backwards, layer->kind(),
            layer->input_dim(), f.return_sequences, !f.go_backwards));
    }
    if (merge_mode_ != "concat" && backward->units() != layer->units()) {
        throw ValueError(fmt::format("Bidirectional: merge_mode '{}' with {} and {} units; expected as many units in "
                                     "both layers, or merge_mode concat",
                                     merge_mode_, layer->units(), backward->units()));
    }
    // Both checked before either is registered: a refused backward layer must not leave the
    // caller's forward layer registered in (and renamed by) a Bidirectional that never was.
    for (const Recurrent* child : {layer.get(), backward.get()}) {
        if (child->registered()) {
            throw StateError(fmt::format("Bidirectional: layer '{}' is already registered in a model; expected a layer "
                                         "of its own for each direction",
                                         child->name()));
        }
    }
    layer_name_ = layer->name();
    forward_ = register_module("forward_" + layer_name_, std::move(layer));
    backward_ = register_module("backward_" + layer_name_, std::move(backward));
}

// The forward layer runs first, in every form of call: with dropout, the two layers' masks are
// drawn from the random engine in that order.
Tensor Bidirectional::forward(const Tensor& x) {
    const Tensor y = (*forward_)(x);
    return merged(y, (*backward_)(x), {});
}

Masked Bidirectional::forward_masked(const Tensor& x, const Tensor& mask) {
    if (!mask.defined()) return {forward(x), {}};  // a subclass's own forward
    const Tensor y = forward_->call_masked(x, mask).output;
    const Tensor merged_output = merged(y, backward_->call_masked(x, mask).output, mask);
    return {merged_output, forward_->settings().return_sequences ? mask : Tensor{}};
}

RecurrentOutput Bidirectional::call_with_state(const Tensor& x, const std::vector<Tensor>& initial_state,
                                               const Tensor& mask) {
    if (!x.defined()) {
        throw ValueError(fmt::format("{}: input is an empty handle; expected (batch, steps, {})", name(),
                                     forward_->input_dim()));
    }
    if (x.rank() != 3) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, {})", name(),
                                     format_shape(x.shape()), forward_->input_dim()));
    }
    check_mask(x, mask);
    const std::size_t forward_size = forward_->state_size(), size = forward_size + backward_->state_size();
    if (!initial_state.empty() && initial_state.size() != size) {
        throw ValueError(fmt::format("{}: initial_state has {} tensors; expected {}: {} for {} then {} for {}", name(),
                                     initial_state.size(), size, forward_size, forward_->name(),
                                     size - forward_size, backward_->name()));
    }
    // Checked here, so that an error counts the tensors as the caller does.
    for (std::size_t k = 0; k < initial_state.size(); ++k) {
        const Shape expected{x.shape()[0], (k < forward_size ? forward_ : backward_)->units()};
        detail::check_initial_state(name(), k, initial_state[k], expected, x.shape());
    }
    const auto part = [&](std::size_t begin, std::size_t end) {
        if (initial_state.empty()) return std::vector<Tensor>{};
        return std::vector<Tensor>(initial_state.begin() + static_cast<long>(begin),
                                   initial_state.begin() + static_cast<long>(end));
    };
    RecurrentOutput out;
    call_in_scope([&] {
        RecurrentOutput f = forward_->call_with_state(x, part(0, forward_size), mask);
        RecurrentOutput b = backward_->call_with_state(x, part(forward_size, size), mask);
        out.output = merged(f.output, b.output, mask);
        out.state = std::move(f.state);
        out.state.insert(out.state.end(), b.state.begin(), b.state.end());
        return out.output;
    });
    return out;
}

Tensor Bidirectional::merged(const Tensor& y, Tensor y_reversed, const Tensor& mask) const {
    const bool sequences = forward_->settings().return_sequences;
    if (sequences) {
        // The backward layer's outputs come in its reading order: step T-1 first.
        std::vector<std::size_t> order(y_reversed.shape()[1]);
        std::iota(order.rbegin(), order.rend(), std::size_t{0});
        y_reversed = gather(y_reversed, order, 1);
    }
    Tensor out = merge_mode_ == "concat" ? concat({y, y_reversed}, -1)
                 : merge_mode_ == "sum"  ? y + y_reversed
                 : merge_mode_ == "mul"  ? y * y_reversed
                                         : (y + y_reversed) * 0.5f;
    // Keras's Bidirectional zeroes the masked steps' outputs (each layer alone repeats its last).
    if (sequences && mask.defined()) out = out * reshape(mask, {-1, static_cast<long>(mask.shape()[1]), 1});
    return out;
}

Shape Bidirectional::output_shape(const Shape& input_shape) {
    Shape out = forward_->output_shape(input_shape);
    if (merge_mode_ == "concat") out.back() += backward_->units();
    return out;
}

std::optional<LayerConfig> Bidirectional::config() const {
    const std::optional<LayerConfig> forward = forward_->config(), backward = backward_->config();
    // A layer whose architecture is code makes the pair's code too.
    if (!forward || !backward) return std::nullopt;
    LayerConfig c{{"merge_mode", merge_mode_}, {"layer", forward_->kind()}, {"layer_name", layer_name_}};
    for (const auto& [key, value] : *forward) c["forward." + key] = value;
    for (const auto& [key, value] : *backward) c["backward." + key] = value;
    return c;
}

}  // namespace xg
