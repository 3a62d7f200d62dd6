#include "xgrad/nn/module.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// "Dense" -> "dense", "BatchNorm" -> "batch_norm", "Conv2D" -> "conv2d", "Conv2DTranspose" ->
// "conv2d_transpose", "MLPBlock" -> "mlp_block": Keras's two rules, so that layers get Keras's names.
std::string snake_case(const std::string& kind) {
    static const std::regex word("(.)([A-Z][a-z0-9]+)"), after_lower("([a-z])([A-Z])");
    std::string out = std::regex_replace(std::regex_replace(kind, word, "$1_$2"), after_lower, "$1_$2");
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "407050" -> "407,050"
std::string with_commas(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// What summary() learns from one forward pass: the output shape of each direct child of the
// root, in the order of their first call. Only the thread running summary() traces.
struct CallTrace {
    int depth = 0;
    std::vector<std::pair<const Module*, Shape>> calls;
};
thread_local CallTrace* call_trace = nullptr;

}  // namespace

Module::Module(std::string kind, std::string name)
    : kind_(std::move(kind)), name_(std::move(name)), named_by_user_(!name_.empty()) {
    if (name_.empty()) name_ = snake_case(kind_) + "_1";
}

Tensor Module::operator()(const Tensor& x) {
    return call_in_scope([&] { return forward(x); });
}

Tensor Module::call_in_scope(const std::function<Tensor()>& compute) {
    ScopeGuard scope(name_);
    if (call_trace == nullptr) return compute();
    // Summaries only: depth 1 means the root's forward is calling this module directly.
    const bool direct_child = call_trace->depth == 1;
    struct Deeper {
        int& depth;
        explicit Deeper(int& d) : depth(d) { ++depth; }
        ~Deeper() { --depth; }
        Deeper(const Deeper&) = delete;
        Deeper& operator=(const Deeper&) = delete;
    };
    Tensor y;
    {
        Deeper deeper(call_trace->depth);  // restored if the call throws (a caller may catch it)
        y = compute();
    }
    if (direct_child) {
        auto& calls = call_trace->calls;
        const bool seen = std::any_of(calls.begin(), calls.end(), [&](auto& c) { return c.first == this; });
        if (!seen) calls.emplace_back(this, Shape(y.shape().begin() + 1, y.shape().end()));
    }
    return y;
}

Activated Module::call_with_logits(const Tensor& x) {
    ScopeGuard scope(name_);
    return forward_with_logits(x);
}

void Module::check_mask(const Tensor& x, const Tensor& mask) const {
    if (!mask.defined()) return;
    if (!x.defined()) throw ValueError(fmt::format("{}: input is an empty handle; expected a tensor", name_));
    const Shape& xs = x.shape();
    if (mask.rank() != 2 || xs.size() < 2 || mask.shape()[0] != xs[0] || mask.shape()[1] != xs[1]) {
        throw ShapeError(fmt::format("{}: mask has shape {} for an input of {}; expected (batch, steps), the input's "
                                     "first two extents",
                                     name_, format_shape(mask.shape()), format_shape(xs)));
    }
}

Masked Module::call_masked(const Tensor& x, const Tensor& mask) {
    check_mask(x, mask);
    Masked out;
    call_in_scope([&] {
        out = forward_masked(x, mask);
        return out.output;
    });
    return out;
}

Masked Module::forward_masked(const Tensor& x, const Tensor& mask) {
    if (mask.defined() && !passes_mask()) {
        throw ValueError(fmt::format(
            "{} ({}): got a mask (from an Embedding with mask_zero or a Masking layer) but neither uses nor passes "
            "one; expected a SimpleRNN, LSTM, GRU, Bidirectional or GlobalAveragePooling1D to take it, with only "
            "layers that keep steps apart (Dense, Dropout, Activation, ReLU, LeakyReLU, ELU, Softmax, PReLU, "
            "Rescaling, a one-axis LayerNormalization) before",
            name_, kind_));
    }
    return {forward(x), mask};
}

Activated Module::forward_with_logits(const Tensor& x) {
    Tensor y = forward(x);
    return {y, y, "linear"};
}

Shape Module::output_shape(const Shape& input_shape) {
    Shape batch_shape{1};
    batch_shape.insert(batch_shape.end(), input_shape.begin(), input_shape.end());
    NoGradGuard no_grad;
    Tensor y = (*this)(input(xt::zeros<float>(batch_shape)));
    const Shape& s = y.shape();
    return Shape(s.begin() + 1, s.end());
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect("", out);
    return out;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
    for (auto& [local, t] : parameters_) out.emplace_back(prefix + local, t);
    for (auto& child : children_) child->collect(prefix + child->name() + "/", out);
}

std::size_t Module::parameter_count() const {
    std::size_t n = 0;
    for (auto& t : parameters()) n += t.size();
    return n;
}

void Module::set_trainable(bool on) {
    trainable_ = on;
    for (auto& [local, t] : parameters_) {
        t.set_requires_grad(on);
        if (!on) t.zero_grad();  // a gradient from before would still be applied by a step
    }
    for (auto& child : children_) child->set_trainable(on);
}

std::vector<Tensor> Module::trainable_parameters() const {
    std::vector<Tensor> out;
    for (auto& t : parameters()) {
        if (t.requires_grad()) out.push_back(t);
    }
    return out;
}

std::vector<Tensor> Module::buffers() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect_buffers("", out);
    return out;
}

void Module::collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
    for (auto& [local, t] : buffers_) out.emplace_back(prefix + local, t);
    for (auto& child : children_) child->collect_buffers(prefix + child->name() + "/", out);
}

std::size_t Module::buffer_count() const {
    std::size_t n = 0;
    for (auto& t : buffers()) n += t.size();
    return n;
}

std::vector<std::pair<std::string, Tensor>> Module::named_state() const {
    auto out = named_parameters();
    for (auto& entry : named_buffers()) out.push_back(std::move(entry));
    return out;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& child : children_) child->train(on);
}

ModeGuard::ModeGuard(Module& root, bool training) {
    std::vector<Module*> pending{&root};
    while (!pending.empty()) {
        Module* m = pending.back();
        pending.pop_back();
        saved_.emplace_back(m, m->training());
        // Reversed, so that children are visited, and later restored, in their order.
        for (auto it = m->children().rbegin(); it != m->children().rend(); ++it) pending.push_back(it->get());
    }
    root.train(training);
}

ModeGuard::~ModeGuard() {
    // Parents first: each train() sets a whole subtree, and the modules below it that had a
    // mode of their own get it back when their turn comes.
    for (auto& [module, training] : saved_) module->train(training);
}

Tensor& Module::register_parameter(const std::string& local_name, Tensor t) {
    for (auto& [existing, _] : parameters_) {
        if (existing == local_name) {
            throw ValueError(fmt::format("{}: parameter '{}' is registered twice; expected unique names", name_, local_name));
        }
    }
    t.set_requires_grad(true);
    t.set_name(name_ + "/" + local_name);
    parameters_.emplace_back(local_name, std::move(t));
    return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& local_name, Tensor t) {
    if (!t.defined()) {
        throw ValueError(fmt::format("{}: buffer '{}' is an empty handle; expected a tensor", name_, local_name));
    }
    auto taken = [&](const auto& list) {
        return std::any_of(list.begin(), list.end(), [&](const auto& entry) { return entry.first == local_name; });
    };
    if (taken(buffers_) || taken(parameters_)) {
        throw ValueError(fmt::format("{}: buffer '{}' is registered twice or shares a parameter's name; expected unique "
                                     "names", name_, local_name));
    }
    t.set_requires_grad(false);
    t.set_name(name_ + "/" + local_name);
    buffers_.emplace_back(local_name, std::move(t));
    return buffers_.back().second;
}

void Module::adopt(const std::string& name, const std::shared_ptr<Module>& child) {
    if (!child) throw ValueError(fmt::format("{}: register_module got a null module; expected a module", name_));
    if (child->registered_) {
        throw StateError(fmt::format("{}: module '{}' is already registered in a model; expected each module registered "
                                     "once (call one child twice in forward to share its weights)", name_, child->name()));
    }
    if (name.find('/') != std::string::npos) {
        throw ValueError(fmt::format("{}: child name '{}' contains '/'; expected a name without path separators", name_, name));
    }
    auto taken = [&](const std::string& n) {
        return std::any_of(children_.begin(), children_.end(), [&](auto& c) { return c->name() == n; });
    };
    std::string local = !name.empty() ? name : child->named_by_user_ ? child->name() : std::string{};
    if (local.empty()) {
        // Keras-style names, counted among this module's children only.
        const std::string base = snake_case(child->kind());
        int n = 0;
        for (auto& c : children_) n += c->kind() == child->kind() && !c->named_by_user_;
        do local = fmt::format("{}_{}", base, ++n);
        while (taken(local));
    } else if (taken(local)) {
        throw ValueError(fmt::format("{}: a child named '{}' is registered twice; expected unique names", name_, local));
    }
    if (!name.empty()) child->named_by_user_ = true;
    child->rename(std::move(local));
    child->registered_ = true;
    children_.push_back(child);
}

void Module::rename(std::string name) {
    name_ = std::move(name);
    for (auto& [local, t] : parameters_) t.set_name(name_ + "/" + local);
    for (auto& [local, t] : buffers_) t.set_name(name_ + "/" + local);
}

std::string Module::summary(const Shape& input_shape) {
    CallTrace trace;
    Shape sample{1};
    sample.insert(sample.end(), input_shape.begin(), input_shape.end());
    // Without children there is nothing to trace (and an empty Sequential cannot run).
    // Inference mode: a training pass would move BatchNormalization's statistics and draw
    // Dropout's masks from the seeded engine.
    if (!children_.empty()) {
        NoGradGuard no_grad;
        ModeGuard inference(*this, false);
        call_trace = &trace;
        try {
            (*this)(input(xt::zeros<float>(sample)));
        } catch (...) {
            call_trace = nullptr;
            throw;
        }
        call_trace = nullptr;
    }
    // Children the forward pass never called still own parameters: listed last, shape unknown.
    const std::size_t called = trace.calls.size();
    for (auto& child : children_) {
        const Module* c = child.get();
        if (std::none_of(trace.calls.begin(), trace.calls.end(), [&](auto& k) { return k.first == c; })) {
            trace.calls.emplace_back(c, Shape{});
        }
    }
    // Keras's 65 columns, the first widened when a "name (Kind)" needs it
    // ("max_pooling2d_1 (MaxPooling2D)"), so that columns never run together.
    std::size_t name_width = 29;
    for (auto& [module, shape] : trace.calls) {
        name_width = std::max(name_width, module->name().size() + module->kind().size() + 4);
    }
    if (!parameters_.empty() || !buffers_.empty()) name_width = std::max(name_width, name().size() + 18);
    const std::string rule(name_width + 36, '_'), double_rule(name_width + 36, '=');
    std::string out = fmt::format("Model: \"{}\"\n{}\n{:<{}}{:<26}{}\n{}\n", name(), rule, "Layer (type)", name_width,
                                  "Output Shape", "Param #", double_rule);
    std::size_t total = 0, trainable = 0;
    std::vector<std::string> rows;
    auto count_row = [&](const std::string& label, const std::string& shape, const std::vector<Tensor>& params,
                         const std::vector<Tensor>& buffers) {
        std::size_t count = 0;
        for (auto& t : buffers) count += t.size();
        for (auto& t : params) {
            count += t.size();
            if (t.requires_grad()) trainable += t.size();
        }
        total += count;
        rows.push_back(fmt::format("{:<{}}{:<26}{}\n", label, name_width, shape, with_commas(count)));
    };
    if (!parameters_.empty() || !buffers_.empty()) {
        std::vector<Tensor> own, own_buffers;
        for (auto& [local, t] : parameters_) own.push_back(t);
        for (auto& [local, t] : buffers_) own_buffers.push_back(t);
        count_row(fmt::format("{} (own parameters)", name()), "", own, own_buffers);
    }
    for (std::size_t i = 0; i < trace.calls.size(); ++i) {
        const auto& [module, shape] = trace.calls[i];
        count_row(fmt::format("{} ({})", module->name(), module->kind()), i < called ? format_batch_shape(shape) : "(not called)",
                  module->parameters(), module->buffers());
    }
    for (std::size_t i = 0; i < rows.size(); ++i) out += rows[i] + (i + 1 < rows.size() ? rule : double_rule) + "\n";
    if (rows.empty()) out += double_rule + "\n";
    out += fmt::format("Total params: {}\nTrainable params: {}\nNon-trainable params: {}\n{}\n", with_commas(total),
                       with_commas(trainable), with_commas(total - trainable), rule);
    return out;
}

}  // namespace xg
