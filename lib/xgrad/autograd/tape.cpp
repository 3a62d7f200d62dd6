#include "xgrad/autograd/tape.hpp"

#include <atomic>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {

bool all_finite(const Array& a) {
    for (float v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

std::string where(const Record& r) { return r.scope.empty() ? std::string() : " in " + r.scope; }

void check_finite(const Array& a, const Record& r, const char* what) {
    if (!all_finite(a)) {
        throw NumericError(fmt::format("anomaly: op '{}'{} produced NaN or Inf in its {} {}; expected finite values",
                                       r.op, where(r), what, format_shape(a.shape())));
    }
}

// Generations are drawn from one process-wide counter: a result from a thread that has
// exited can never match a new thread's tape that happens to reuse the same address.
std::uint64_t next_generation() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

Tape::Tape() : generation_(next_generation()) {}

Tape& Tape::current() {
    thread_local Tape tape;
    return tape;
}

void Tape::clear() {
    records_.clear();
    walked_ = false;
    generation_ = next_generation();
}

void GradientContext::accumulate(std::size_t i, Array g) const {
    Node& node = *record_.inputs[i];
    if (!node.requires_grad) return;
    if (g.shape() != node.value.shape()) {
        // Broadcasting in the forward pass is undone here, once, for every op.
        try {
            g = sum_to(g, node.value.shape());
        } catch (const ShapeError&) {
            throw ShapeError(fmt::format("backward of '{}': gradient for input {} has shape {}; expected {} or a shape it broadcasts to",
                                         record_.op, i, format_shape(g.shape()), format_shape(node.value.shape())));
        }
    }
    node.add_grad(std::move(g));
}

ScopeGuard::ScopeGuard(const std::string& name) {
    std::string& scope = Tape::current().scope_;
    previous_length_ = scope.size();
    if (!scope.empty()) scope += '/';
    scope += name;
}

ScopeGuard::~ScopeGuard() { Tape::current().scope_.resize(previous_length_); }

Tensor record_op(std::string op, std::initializer_list<Tensor> inputs, Array output, BackwardFn backward,
                 std::string attributes) {
    return record_op(std::move(op), inputs.begin(), inputs.size(), std::move(output), std::move(backward),
                     std::move(attributes));
}

Tensor record_op(std::string op, const std::vector<Tensor>& inputs, Array output, BackwardFn backward,
                 std::string attributes) {
    return record_op(std::move(op), inputs.data(), inputs.size(), std::move(output), std::move(backward),
                     std::move(attributes));
}

Tensor record_op(std::string op, const Tensor* inputs, std::size_t count, Array output, BackwardFn backward,
                 std::string attributes) {
    Tape& tape = Tape::current();
    bool needs_grad = false;
    if (grad_enabled()) {
        for (std::size_t i = 0; i < count; ++i) {
            const Node& in = *inputs[i].node();
            if (!in.requires_grad) continue;
            if (in.role == Role::result && !tape.holds(in)) {
                throw StateError(fmt::format("{}: input {} {} was recorded on a tape that has since been cleared "
                                             "(by backward or Tape::clear); expected a fresh result, or detach() it first",
                                             op, i, format_shape(in.value.shape())));
            }
            needs_grad = true;
        }
    }
    auto node = make_node(std::move(output), Role::result, needs_grad);
    if (!needs_grad) return Tensor(std::move(node));

    node->tape = &tape;
    node->generation = tape.generation_;
    node->record = tape.records_.size();
    Record& r = tape.records_.emplace_back();
    r.op = std::move(op);
    r.inputs.reserve(count);
    for (std::size_t i = 0; i < count; ++i) r.inputs.push_back(inputs[i].node_ptr());
    r.output = node;
    r.attributes = std::move(attributes);
    r.scope = tape.scope_;
    r.backward = std::move(backward);
    if (anomaly_detection_enabled()) check_finite(node->value, r, "output");
    return Tensor(std::move(node));
}

void run_backward(const Tensor& root, const Array* seed, bool retain_graph) {
    Tape& tape = Tape::current();
    Node& out = *root.node();
    if (!out.requires_grad) {
        throw StateError(fmt::format("backward: tensor {} does not require a gradient; expected a result of ops on "
                                     "parameters (was it computed under NoGradGuard or detached?)",
                                     format_shape(out.value.shape())));
    }
    if (out.role == Role::result && !tape.holds(out)) {
        throw StateError("backward: tensor was recorded on a tape that has since been cleared (by an earlier backward "
                         "or Tape::clear); expected a freshly computed result, or retain_graph=true on the earlier backward");
    }
    Array start;
    if (seed) {
        if (seed->shape() != out.value.shape()) {
            throw ShapeError(fmt::format("backward: seed gradient has shape {}; expected the output's shape {}",
                                         format_shape(seed->shape()), format_shape(out.value.shape())));
        }
        start = *seed;
    } else {
        if (out.value.size() != 1) {
            throw ShapeError(fmt::format("backward: output has shape {}; expected a scalar, or pass a seed gradient "
                                         "of that shape", format_shape(out.value.shape())));
        }
        start = xt::ones<float>(out.value.shape());
    }
    // A result's gradient from an earlier backward (kept by retain_grad) must not flow down
    // the graph again: set it aside for this walk and add it back afterwards.
    // Only a walk gives results gradients, so on a tape not yet walked there is nothing to look for
    // (and a large scalar graph is spared a pass over every node).
    std::vector<std::pair<Node*, Array>> kept;
    if (out.role == Role::result && tape.walked_) {
        for (std::size_t i = 0; i <= out.record; ++i) {
            Node& result = *tape.records_[i].output;
            if (!result.has_grad()) continue;
            if (result.retains_grad) kept.emplace_back(&result, std::move(result.grad()));
            result.drop_grad();
        }
    }
    out.add_grad(std::move(start));
    if (out.role == Role::result) {
        tape.walked_ = true;
        try {
            const bool check = anomaly_detection_enabled();
            // Records are in execution order, so walking them backwards visits every node after
            // all of its consumers: each gradient is complete before it is propagated.
            for (std::size_t i = out.record + 1; i-- > 0;) {
                const Record& r = tape.records_[i];
                Node& result = *r.output;
                if (!result.has_grad()) continue;
                if (check) check_finite(result.grad(), r, "gradient");
                GradientContext ctx(r);
                r.backward(ctx);
                if (check) {
                    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
                        const Node& in = *r.inputs[k];
                        if (in.has_grad() && !all_finite(in.grad())) {
                            throw NumericError(fmt::format("anomaly: backward of op '{}'{} produced NaN or Inf in the gradient "
                                                           "of input {} {}; expected finite values",
                                                           r.op, where(r), k, format_shape(in.value.shape())));
                        }
                    }
                }
                if (!result.retains_grad) {
                    // Intermediate gradients are dropped as soon as they are used: memory stays
                    // at one step's worth and a second backward starts clean.
                    result.drop_grad();
                }
            }
        } catch (...) {
            // A rule that threw (anomaly mode, a user op's shape error) leaves the walk half done:
            // drop the graph as a finished walk would, so the next step starts from a clean tape.
            if (!retain_graph) tape.clear();
            throw;
        }
    }
    for (auto& [node, grad] : kept) node->add_grad(std::move(grad));
    if (!retain_graph) tape.clear();
}

}  // namespace xg
