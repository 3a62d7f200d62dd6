#include "xgrad/autograd/tensor_rule.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

using detail::Node;
using detail::make_node;

namespace {

std::mutex& registry_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::unordered_map<ScalarRule, ScalarTensorRule>& registry() {
    static std::unordered_map<ScalarRule, ScalarTensorRule> rules;
    return rules;
}

using GradientTable = std::unordered_map<const Node*, Tensor>;

// Fan-out: a node used twice receives the sum of both shares (an add op, recorded when recording).
void add_to(GradientTable& grads, const Node* node, const Tensor& g) {
    auto [it, fresh] = grads.try_emplace(node, g);
    if (!fresh) it->second = add(it->second, g);
}

Tensor as_tensor(Array a) {
    if (a.dimension() == 0) return Tensor(make_node(*a.data(), Role::constant, false));
    return constant(std::move(a));
}

// A record without a TensorRule: its array (or scalar) rule runs on g's value, with the gradients
// that the output and the inputs already hold set aside for the moment. Returns dL/dinput per
// distinct input node that requires a gradient.
std::vector<std::pair<Node*, Array>> run_array_rule(const Record& r, const Array& g) {
    std::vector<Node*> nodes;
    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
        Node* in = r.inputs[k];
        if (in->requires_grad && std::find(nodes.begin(), nodes.end(), in) == nodes.end()) nodes.push_back(in);
    }
    Node& out = *r.output;
    std::vector<std::optional<Array>> saved;
    auto set_aside = [&saved](Node& n) {
        saved.emplace_back(n.has_grad() ? std::optional<Array>(n.grad()) : std::nullopt);
        n.drop_grad();
    };
    set_aside(out);
    for (Node* n : nodes) {
        if (n != &out) set_aside(*n);
    }
    auto restore = [&] {
        std::size_t s = 0;
        auto put_back = [&](Node& n) {
            n.drop_grad();
            if (saved[s]) n.set_grad(std::move(*saved[s]));
            ++s;
        };
        put_back(out);
        for (Node* n : nodes) {
            if (n != &out) put_back(*n);
        }
    };
    std::vector<std::pair<Node*, Array>> results;
    try {
        NoGradGuard no_grad;
        out.set_grad(g);
        if (r.scalar_rule) {
            float x[kMaxScalarInputs], dx[kMaxScalarInputs] = {};
            for (std::size_t k = 0; k < r.inputs.size(); ++k) x[k] = r.inputs[k]->item();
            r.scalar_rule(x, r.output->item(), g.data()[0], dx);
            for (Node* n : nodes) n->drop_grad();
            for (std::size_t k = 0; k < r.inputs.size(); ++k) {
                if (r.inputs[k]->requires_grad) r.inputs[k]->add_grad(dx[k]);
            }
        } else {
            GradientContext ctx(r);
            r.array_rule->backward(ctx);
        }
        for (Node* n : nodes) {
            if (n->has_grad()) results.emplace_back(n, Array(std::as_const(*n).grad()));
        }
    } catch (...) {
        restore();
        throw;
    }
    restore();
    return results;
}

// One step of the walk: record i's inputs receive their share of g.
void propagate(const Tape& tape, std::size_t i, const Tensor& g, GradientTable& grads, bool create_graph) {
    // Rules append records to this tape: `r` is not used once a rule or an op has run.
    const Record& r = tape[i];
    const std::string_view op = r.op;
    ScalarTensorRule scalar_rule = nullptr;
    const TensorRule* rule = nullptr;  // in the record's pooled ArrayRule, which never moves
    if (r.scalar_rule) {
        scalar_rule = scalar_tensor_rule(r.scalar_rule);
    } else if (r.array_rule->tensor_backward) {
        rule = &r.array_rule->tensor_backward;
    }
    std::vector<Tensor> inputs;
    inputs.reserve(r.inputs.size());
    for (std::size_t k = 0; k < r.inputs.size(); ++k) inputs.push_back(r.inputs.tensor(k));

    if (scalar_rule || rule) {
        TensorGradientContext ctx(op, inputs, Tensor(r.output), g);
        if (scalar_rule) {
            scalar_rule(ctx);
        } else {
            (*rule)(ctx);
        }
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            if (ctx.result(k).defined()) add_to(grads, inputs[k].node(), ctx.result(k));
        }
        return;
    }
    std::vector<std::pair<Node*, Array>> results = run_array_rule(r, g.value());
    for (auto& [node, value] : results) {
        Tensor share;
        if (create_graph) {
            // Recorded on g and the op's inputs, so that differentiating it again reaches this
            // record and says why it cannot, rather than passing for a zero second derivative.
            std::vector<Tensor> sources{g};
            sources.insert(sources.end(), inputs.begin(), inputs.end());
            auto refuse = [name = std::string(op)] {
                throw StateError(fmt::format("backward: op '{}' has no differentiable gradient rule, so its gradient "
                                             "cannot be differentiated again; expected the op recorded with a "
                                             "TensorRule (docs/architecture.md, \"Higher-order gradients\")",
                                             name));
            };
            share = record_op(fmt::format("{}_gradient", op), sources, std::move(value),
                              [refuse](GradientContext&) { refuse(); }, [refuse](TensorGradientContext&) { refuse(); });
        } else {
            share = as_tensor(std::move(value));
        }
        add_to(grads, node, share);
    }
}

}  // namespace

TensorGradientContext::TensorGradientContext(std::string_view op, std::vector<Tensor> inputs, Tensor output, Tensor grad)
    : op_(op), inputs_(std::move(inputs)), output_(std::move(output)), grad_(std::move(grad)), results_(inputs_.size()) {}

void TensorGradientContext::accumulate(std::size_t i, Tensor g) {
    const Node& node = *inputs_[i].node();
    if (!node.requires_grad) return;
    if (g.shape() != node.shape()) {
        // Broadcasting undone by an op, so that it is recorded like the rest of the rule.
        try {
            g = sum_to(g, node.shape());
        } catch (const ShapeError&) {
            throw ShapeError(fmt::format("backward of '{}': gradient for input {} has shape {}; expected {} or a shape it broadcasts to",
                                         op_, i, format_shape(g.shape()), format_shape(node.shape())));
        }
    }
    results_[i] = results_[i].defined() ? add(results_[i], g) : std::move(g);
}

void register_scalar_tensor_rule(ScalarRule rule, ScalarTensorRule tensor_rule) {
    std::lock_guard lock(registry_mutex());
    registry()[rule] = tensor_rule;
}

ScalarTensorRule scalar_tensor_rule(ScalarRule rule) {
    std::lock_guard lock(registry_mutex());
    auto it = registry().find(rule);
    return it == registry().end() ? nullptr : it->second;
}

GradientTable detail::walk_tensor_gradients(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds,
                                            const std::unordered_set<const Node*>& keep, bool create_graph,
                                            bool for_backward) {
    const Tape& tape = Tape::current();
    GradientTable grads;
    std::size_t top = 0;  // one past the newest root's record
    for (std::size_t k = 0; k < roots.size(); ++k) {
        const Node& root = *roots[k].node();
        if (root.role == Role::result && tape.holds(root)) top = std::max<std::size_t>(top, root.record + 1);
        add_to(grads, &root, seeds[k]);
    }
    GradModeGuard recording(create_graph);
    const bool check = anomaly_detection_enabled();
    // Records are in execution order: walking them backwards visits a node after all of its
    // consumers. Records the rules append land past `top` and are not visited.
    for (std::size_t i = top; i-- > 0;) {
        Node* out = tape[i].output.get();
        auto it = grads.find(out);
        if (it == grads.end()) continue;
        Tensor g = it->second;
        if (!keep.contains(out)) grads.erase(it);
        if (check) {
            for (float v : g.value()) {
                if (!std::isfinite(v)) {
                    throw NumericError(fmt::format("anomaly: op '{}' received NaN or Inf in its gradient {}; expected finite values",
                                                   tape[i].op, format_shape(g.shape())));
                }
            }
        }
        if (for_backward && out->retains_grad) out->add_grad(Array(g.value()));
        propagate(tape, i, g, grads, create_graph);
    }
    return grads;
}

void detail::backward_with_graph(const Tensor& root, const Array* seed) {
    if (!root.defined()) throw StateError("backward: used an empty tensor handle; expected one made from a value or an op");
    const Node& out = *root.node();
    check_backward_root(out, seed);
    Tensor start;
    if (seed) {
        start = as_tensor(*seed);
    } else {
        start = out.is_scalar() ? as_tensor(scalar_array(1.0f)) : constant(xt::ones<float>(out.shape()));
    }
    GradientTable grads = walk_tensor_gradients({root}, {start}, {}, true, true);
    GradModeGuard recording(true);
    for (auto& [key, g] : grads) {
        Node* leaf = const_cast<Node*>(key);  // a node of the graph, reached through it
        if (!leaf->requires_grad || leaf->role == Role::result) continue;
        Tensor total = g;
        if (std::shared_ptr<Node> before = leaf->grad_graph()) {
            total = add(Tensor(std::move(before)), g);
        } else if (leaf->has_grad()) {
            total = add(constant(Array(std::as_const(*leaf).grad())), g);
        }
        leaf->add_grad(Array(g.value()));
        leaf->set_grad_graph(total.node_ptr());
    }
}

}  // namespace xg
