#include "xgrad/nn/recurrent.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/autograd/creation.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/detail/initial_state.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

bool is_rate(float rate) { return rate >= 0.0f && rate < 1.0f; }

// A value after a step whose mask is `keep` (batch, 1) of 1 and 0 (`skip` = 1 - keep): `after`
// where the step is kept, `before` where it is skipped (zero when there was nothing before). Both
// products are exact for 0 and 1, so a mask of ones changes no value.
Tensor masked_update(const Tensor& before, const Tensor& after, const Tensor& keep, const Tensor& skip) {
    return before.defined() ? after * keep + before * skip : after * keep;
}

// An initializer's array, checked against the shape it was asked for.
Array initialized(const Initializer& initializer, const Shape& shape, const char* kind, const char* what) {
    Array a = initializer(shape);
    if (a.shape() != shape) {
        throw ShapeError(fmt::format("{}: {} gave {}; expected {}", kind, what, format_shape(a.shape()),
                                     format_shape(shape)));
    }
    return a;
}

// The activation a setting names, "" read as "linear"; an unknown name is a ValueError naming the
// layer and the setting.
ActivationFn named_activation(std::string& name, const char* kind, const char* setting) {
    if (name.empty()) name = "linear";
    const std::vector<std::string> known = activation_names();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
        throw ValueError(fmt::format("{}: {} '{}' is unknown; expected one of {} (or register_activation)", kind, setting,
                                     name, fmt::join(known, ", ")));
    }
    return activation_by_name(name);
}

}  // namespace

Recurrent::Recurrent(const char* kind, std::string name, std::size_t input_dim, std::size_t units,
                     RecurrentSettings settings, const Weights& weights)
    : Module(kind, std::move(name)),
      input_dim_(input_dim),
      units_(units),
      gates_(weights.gates),
      settings_(std::move(settings)),
      activation_fn_(named_activation(settings_.activation, kind, "activation")) {
    if (settings_.recurrent_activation) {
        recurrent_activation_fn_ = named_activation(*settings_.recurrent_activation, kind, "recurrent_activation");
    } else {
        // A layer of a user's own that has gates but set none.
        recurrent_activation_fn_ = [kind = std::string(kind)](const Tensor&) -> Tensor {
            throw StateError(fmt::format("{}: recurrent_activation_fn() called, but the layer was built with no "
                                         "recurrent_activation; expected one in its RecurrentSettings",
                                         kind));
        };
    }
    if (input_dim == 0 || units == 0) {
        throw ValueError(fmt::format("{}: input_dim {} and units {}; expected both > 0", kind, input_dim, units));
    }
    if (!is_rate(settings_.dropout) || !is_rate(settings_.recurrent_dropout)) {
        throw ValueError(fmt::format("{}: dropout {} and recurrent_dropout {}; expected 0 <= rate < 1", kind,
                                     settings_.dropout, settings_.recurrent_dropout));
    }
    const std::size_t columns = gates_ * units;
    kernel_ = register_parameter(
        "kernel", Tensor(initialized(weights.kernel_initializer, {input_dim, columns}, kind, "kernel_initializer")));
    recurrent_kernel_ = register_parameter(
        "recurrent_kernel",
        Tensor(initialized(weights.recurrent_initializer, {units, columns}, kind, "recurrent_initializer")));
    if (settings_.use_bias) {
        bias_ = register_parameter(
            "bias", Tensor(initialized(weights.bias_initializer, weights.bias_shape, kind, "bias_initializer")));
    }
}

std::string Recurrent::expected_input() const { return fmt::format("(batch, steps, {})", input_dim_); }

Tensor Recurrent::forward(const Tensor& x) { return run(x, {}, {}).output; }

Masked Recurrent::forward_masked(const Tensor& x, const Tensor& mask) {
    if (!mask.defined()) return {forward(x), {}};  // a subclass's own forward
    return {run(x, {}, mask).output, settings_.return_sequences ? mask : Tensor{}};
}

RecurrentOutput Recurrent::call_with_state(const Tensor& x, const std::vector<Tensor>& initial_state,
                                           const Tensor& mask) {
    check_mask(x, mask);
    RecurrentOutput out;
    call_in_scope([&] {
        out = run(x, initial_state, mask);
        return out.output;
    });
    return out;
}

Recurrent::State Recurrent::starting_state(const Tensor& x, const std::vector<Tensor>& initial_state) const {
    if (initial_state.empty()) return {};
    const std::size_t size = state_size();
    if (initial_state.size() != size) {
        throw ValueError(fmt::format("{}: initial_state has {} tensors; expected {} ({})", name(),
                                     initial_state.size(), size, size == 2 ? "h and c" : "h"));
    }
    const Shape expected{x.shape()[0], units_};
    for (std::size_t k = 0; k < size; ++k) detail::check_initial_state(name(), k, initial_state[k], expected, x.shape());
    return {initial_state[0], size == 2 ? initial_state[1] : Tensor{}};
}

RecurrentOutput Recurrent::run(const Tensor& x, const std::vector<Tensor>& initial_state, const Tensor& mask) {
    if (!x.defined()) throw ValueError(fmt::format("{}: input is an empty handle; expected {}", name(), expected_input()));
    if (state_size() == 0 || state_size() > 2) {
        throw StateError(fmt::format("{}: state_size() is {}; a recurrent layer's state is h, or h and c", name(),
                                     state_size()));
    }
    if (x.rank() != 3 || x.shape()[2] != input_dim_ || x.shape()[1] == 0) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected {} with steps > 0", name(),
                                     format_shape(x.shape()), expected_input()));
    }
    State state = starting_state(x, initial_state);
    const std::size_t batch = x.shape()[0], steps = x.shape()[1];
    const long columns = static_cast<long>(gates_ * units_);
    const bool drop_inputs = training() && settings_.dropout > 0.0f;
    const bool drop_state = training() && settings_.recurrent_dropout > 0.0f;
    // Masks drawn once per sequence, the same at every step. With recurrent_dropout, Keras runs a
    // gated layer gate by gate (its implementation 1), each gate with masks of its own.
    const std::size_t mask_count = drop_state ? gates_ : 1;
    std::vector<Tensor> input_masks, state_masks;
    for (std::size_t g = 0; g < mask_count; ++g) {
        if (drop_inputs) input_masks.push_back(dropout(ones({batch, 1, input_dim_}), settings_.dropout, true));
        if (drop_state) state_masks.push_back(dropout(ones({batch, units_}), settings_.recurrent_dropout, true));
    }
    // The inputs' part of every step at once: (batch * steps, input_dim) . kernel. The batch's
    // extents are left to reshape (-1), so that an exported graph takes any batch.
    const auto flat = [&](const Tensor& t) { return reshape(t, {-1, static_cast<long>(input_dim_)}); };
    const Tensor in_bias = input_bias();
    Tensor product;
    if (input_masks.size() > 1) {
        std::vector<Tensor> parts;
        for (std::size_t g = 0; g < gates_; ++g) parts.push_back(matmul(flat(x * input_masks[g]), gate(kernel_, g)));
        product = plus(concat(parts, -1), in_bias);
    } else {
        const Tensor inputs = flat(input_masks.empty() ? x : x * input_masks[0]);
        product = in_bias.defined() ? linear(inputs, kernel_, in_bias) : matmul(inputs, kernel_);
    }
    const Tensor projected = reshape(product, {-1, static_cast<long>(steps), columns});

    // The state's part: h . recurrent_kernel, h masked gate by gate when each gate has a mask
    // (the kernel's blocks sliced once per sequence).
    const Tensor state_bias = recurrent_bias();
    std::vector<Tensor> kernel_blocks;
    if (state_masks.size() > 1) {
        for (std::size_t g = 0; g < gates_; ++g) kernel_blocks.push_back(gate(recurrent_kernel_, g));
    }
    const auto state_product = [&](const Tensor& h) {
        if (!kernel_blocks.empty()) {
            std::vector<Tensor> parts;
            for (std::size_t g = 0; g < gates_; ++g) parts.push_back(matmul(h * state_masks[g], kernel_blocks[g]));
            return plus(concat(parts, -1), state_bias);
        }
        const Tensor masked = state_masks.empty() ? h : h * state_masks[0];
        // The bias in the product's op: every op a step records is paid at every step.
        return state_bias.defined() ? linear(masked, recurrent_kernel_, state_bias) : matmul(masked, recurrent_kernel_);
    };

    // With a mask, a skipped step keeps the state it found, and its output repeats the last one.
    // The outputs start at zero even from a given state (Keras's), so they are a value of their
    // own then; otherwise they are h.
    const Tensor skip_mask = mask.defined() ? 1.0f - mask : Tensor{};
    const bool own_outputs = mask.defined() && !initial_state.empty();
    Tensor output;
    std::vector<Tensor> outputs;
    if (settings_.return_sequences) outputs.reserve(steps);
    for (std::size_t k = 0; k < steps; ++k) {
        const std::size_t t = settings_.go_backwards ? steps - 1 - k : k;
        const Tensor step_inputs = reshape(slice(projected, 1, t, t + 1), {-1, columns});
        Tensor recurrent = state_bias;
        if (state.h.defined()) recurrent = state_product(state.h);
        State before;
        if (mask.defined()) before = state;
        step(step_inputs, recurrent, state);
        if (mask.defined()) {
            const Tensor keep = slice(mask, 1, t, t + 1), skip = slice(skip_mask, 1, t, t + 1);  // (batch, 1)
            if (own_outputs) output = masked_update(output, state.h, keep, skip);
            state.h = masked_update(before.h, state.h, keep, skip);
            if (state.c.defined()) state.c = masked_update(before.c, state.c, keep, skip);
        }
        if (!own_outputs) output = state.h;
        if (settings_.return_sequences) outputs.push_back(reshape(output, {-1, 1, static_cast<long>(units_)}));
    }
    if (state.c.defined() != (state_size() == 2)) {
        throw StateError(fmt::format("{}: the steps {} a cell state c, but state_size() is {}; expected {}", name(),
                                     state.c.defined() ? "keep" : "keep no", state_size(), state.c.defined() ? 2 : 1));
    }
    std::vector<Tensor> last{state.h};
    if (state_size() == 2) last.push_back(state.c);
    if (!settings_.return_sequences) return {output, std::move(last)};
    return {outputs.size() == 1 ? outputs.front() : concat(outputs, 1), std::move(last)};
}

Tensor Recurrent::gates(const Tensor& product, std::size_t first, std::size_t last) const {
    return slice(product, -1, first * units_, last * units_);
}

Tensor Recurrent::plus(const Tensor& a, const Tensor& b) { return b.defined() ? a + b : a; }

Shape Recurrent::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 2 || input_shape[1] != input_dim_ || input_shape[0] == 0) {
        throw ShapeError(fmt::format("{}: input shape {}; expected (steps, {}) with steps > 0", name(),
                                     format_shape(input_shape), input_dim_));
    }
    if (settings_.return_sequences) return {input_shape[0], units_};
    return {units_};
}

std::optional<LayerConfig> Recurrent::config() const {
    const auto flag = [](bool on) { return std::string(on ? "true" : "false"); };
    LayerConfig c{{"input_dim", std::to_string(input_dim_)},
                  {"units", std::to_string(units_)},
                  {"activation", settings_.activation},
                  {"use_bias", flag(settings_.use_bias)},
                  {"return_sequences", flag(settings_.return_sequences)},
                  {"go_backwards", flag(settings_.go_backwards)},
                  {"dropout", fmt::format("{}", settings_.dropout)},
                  {"recurrent_dropout", fmt::format("{}", settings_.recurrent_dropout)}};
    if (settings_.recurrent_activation) c["recurrent_activation"] = *settings_.recurrent_activation;
    return c;
}

}  // namespace xg
