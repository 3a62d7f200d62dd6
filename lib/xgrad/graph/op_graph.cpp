#include "xgrad/graph/op_graph.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/graph/dot_text.hpp"

namespace xg {

using detail::Node;

namespace {

constexpr const char* path_colour = "#c0392b";

// A module scope and what is drawn inside it; nested scopes are nested clusters.
struct Cluster {
    std::string path;  // "model/dense_1"
    std::string name;  // "dense_1"
    std::vector<std::string> nodes;
    std::vector<std::unique_ptr<Cluster>> children;  // in order of first use

    Cluster& child(const std::string& component) {
        for (auto& c : children) {
            if (c->name == component) return *c;
        }
        auto c = std::make_unique<Cluster>();
        c->path = path.empty() ? component : path + "/" + component;
        c->name = component;
        children.push_back(std::move(c));
        return *children.back();
    }
};

std::vector<std::string> split_scope(std::string_view scope) {
    std::vector<std::string> parts;
    if (scope.empty()) return parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = scope.find('/', start);
        parts.emplace_back(scope.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

Cluster& cluster_at(Cluster& root, std::string_view scope) {
    Cluster* c = &root;
    for (const auto& part : split_scope(scope)) c = &c->child(part);
    return *c;
}

// The deepest scope containing both ("model/dense_1", "model/dense_2" -> "model").
std::string common_scope(std::string_view a, std::string_view b) {
    const auto pa = split_scope(a), pb = split_scope(b);
    std::string out;
    for (std::size_t i = 0; i < pa.size() && i < pb.size() && pa[i] == pb[i]; ++i) {
        if (i > 0) out += '/';
        out += pa[i];
    }
    return out;
}

void emit(const Cluster& c, int depth, std::string& out) {
    const std::string indent(static_cast<std::size_t>(depth) * 4, ' ');
    for (const auto& n : c.nodes) out += indent + n + "\n";
    for (const auto& child : c.children) {
        out += fmt::format("{}subgraph {} {{\n", indent, dot_id("cluster_" + child->path));
        out += fmt::format("{}    graph [label={}, style=\"rounded\", color=\"#999999\", fontcolor=\"#333333\", "
                           "labeljust=\"l\"];\n",
                           indent, dot_label(child->name));
        emit(*child, depth + 1, out);
        out += indent + "}\n";
    }
}

double l2_norm(const Array& a) {
    double s = 0;
    for (float v : a) s += static_cast<double>(v) * static_cast<double>(v);
    return std::sqrt(s);
}

// "grad L2 = 0.1234" for a node with a gradient; "no gradient" for a trained parameter without.
std::optional<std::string> gradient_line(const Node& n) {
    if (n.has_grad()) return fmt::format("grad L2 = {:.4g}", l2_norm(n.grad()));
    if (n.role == Role::parameter && n.requires_grad) return "no gradient";
    return std::nullopt;
}

std::string leaf_title(const Node& n) {
    if (!n.name().empty()) return n.name();
    switch (n.role) {
        case Role::input: return "input";
        case Role::parameter: return "parameter";
        case Role::constant: return n.size() == 1 ? fmt::format("{:g}", n.item()) : "constant";
        case Role::result: return "result";
    }
    return "tensor";
}

std::string leaf_statement(const Node& n, const std::string& id, const GraphOptions& options) {
    std::string label = leaf_title(n);
    // A scalar constant is drawn as its value; its shape is on the edge.
    if (!(n.role == Role::constant && n.name().empty() && n.size() == 1)) {
        label += fmt::format(" {}", format_shape(n.shape()));
    }
    std::string shape = "ellipse", style = "filled", fill, border, font = "#000000";
    switch (n.role) {
        case Role::input:
            fill = "#d5e8d4", border = "#82b366";
            break;
        case Role::parameter:
            shape = "box", fill = "#fff2cc", border = "#d6b656";
            if (!n.requires_grad) {
                label += "\nfrozen";
                style = "filled,dashed";
            }
            break;
        case Role::constant:
            fill = "#f5f5f5", border = "#999999", font = "#555555";
            break;
        case Role::result:
            // A result whose op was not recorded (no input required a gradient, or NoGradGuard).
            label += "\nnot recorded";
            style = "filled,dashed", fill = "#ffffff", border = "#666666";
            break;
    }
    if (options.gradient_norms) {
        if (auto line = gradient_line(n)) {
            label += fmt::format("\n{}", *line);
            if (!n.has_grad()) font = path_colour;
        }
    }
    const bool on_path = options.gradient_path && n.requires_grad;
    if (on_path) border = path_colour;
    return fmt::format("{} [label={}, shape={}, style=\"{}\", fillcolor=\"{}\", color=\"{}\", fontcolor=\"{}\"{}];", id,
                       dot_label(label), shape, style, fill, border, font,
                       on_path ? ", penwidth=2" : "");
}

std::string op_statement(const Record& r, const std::string& id, const GraphOptions& options) {
    std::string label(r.op);
    if (!r.attributes().empty()) label += "\n" + r.attributes().to_string();
    label += fmt::format("\n{}", format_shape(r.output->shape()));
    if (options.gradient_norms && r.output->has_grad()) label += fmt::format("\n{}", *gradient_line(*r.output));
    // Every recorded op has an input that requires a gradient, so backward goes through it.
    const bool on_path = options.gradient_path;
    return fmt::format("{} [label={}, shape=box, style=\"rounded,filled\", fillcolor=\"#dae8fc\", color=\"{}\"{}];", id,
                       dot_label(label), on_path ? path_colour : "#6c8ebf", on_path ? ", penwidth=2" : "");
}

std::string graph_header(const GraphOptions& options) {
    check_rankdir(options.rankdir, "ops_to_dot");
    return fmt::format(
        "digraph \"ops\" {{\n"
        "    graph [rankdir=\"{}\", fontname=\"Helvetica\", fontsize=11];\n"
        "    node [fontname=\"Helvetica\", fontsize=10];\n"
        "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\", fontcolor=\"#555555\"];\n",
        options.rankdir);
}

// Draws records[i] for i in `chosen` (ascending), plus `lone` when the output is a leaf or
// an unrecorded result.
std::string write_ops(const std::vector<Record>& records, const std::vector<std::size_t>& chosen, const Node* lone,
                      const GraphOptions& options) {
    std::string out = graph_header(options);

    std::unordered_map<const Node*, std::string> producer;
    for (std::size_t i : chosen) producer.emplace(records[i].output.get(), fmt::format("op{}", i));

    struct Leaf {
        const Node* node;
        std::string id;
        std::string scope;  // common scope of its consumers
    };
    std::vector<Leaf> leaves;
    std::unordered_map<const Node*, std::size_t> leaf_index;
    auto leaf_id = [&](const Node* n, std::string_view consumer_scope) -> const std::string& {
        auto [it, added] = leaf_index.emplace(n, leaves.size());
        if (added) {
            leaves.push_back({n, fmt::format("t{}", leaves.size()), std::string(consumer_scope)});
        } else {
            Leaf& leaf = leaves[it->second];
            leaf.scope = common_scope(leaf.scope, consumer_scope);
        }
        return leaves[it->second].id;
    };

    Cluster root;
    std::vector<std::string> edges;
    for (std::size_t i : chosen) {
        const Record& r = records[i];
        const std::string& id = producer.at(r.output.get());
        cluster_at(root, r.scope).nodes.push_back(op_statement(r, id, options));
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            const Node* n = r.inputs[k];
            auto p = producer.find(n);
            const std::string tail = p != producer.end() ? p->second : leaf_id(n, r.scope);
            // Gradients flow back along an edge whose source requires one.
            const std::string style = options.gradient_path && n->requires_grad
                                          ? fmt::format(", color=\"{}\", fontcolor=\"{}\", penwidth=2", path_colour,
                                                        path_colour)
                                          : std::string();
            edges.push_back(fmt::format("{} -> {} [label={}{}];", tail, id, dot_label(format_shape(n->shape())),
                                        style));
        }
    }
    if (lone) leaf_id(lone, "");

    for (const auto& leaf : leaves) {
        // Parameters and constants belong to the module that uses them; data comes from outside.
        const bool owned = leaf.node->role == Role::parameter || leaf.node->role == Role::constant;
        cluster_at(root, owned ? leaf.scope : "").nodes.push_back(leaf_statement(*leaf.node, leaf.id, options));
    }
    emit(root, 1, out);
    for (const auto& e : edges) out += "    " + e + "\n";
    return out + "}\n";
}

}  // namespace

std::string ops_to_dot(const Tape& tape, const GraphOptions& options) {
    std::vector<std::size_t> chosen(tape.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    return write_ops(tape.records(), chosen, nullptr, options);
}

std::string ops_to_dot(const Tensor& output, const GraphOptions& options) {
    if (!output.defined()) {
        throw StateError("ops_to_dot: output is an empty tensor handle; expected a tensor made from a value or an op");
    }
    const Node& out = *output.node();
    const Tape& tape = Tape::current();
    if (out.role == Role::result && out.recorded() && !tape.holds(out)) {
        throw StateError(fmt::format("ops_to_dot: output {} was recorded on a tape that has since been cleared (by "
                                     "backward or Tape::clear) or on another thread's tape; expected a fresh result of "
                                     "this thread, or backward(retain_graph=true) before drawing",
                                     format_shape(out.shape())));
    }
    if (out.role != Role::result || !out.recorded()) return write_ops(tape.records(), {}, &out, options);

    // Records are in execution order, so one backward sweep from the output's record finds
    // every record it depends on.
    std::unordered_set<const Node*> needed{&out};
    std::vector<std::size_t> chosen;
    for (std::size_t i = out.record + 1; i-- > 0;) {
        const Record& r = tape[i];
        if (!needed.contains(r.output.get())) continue;
        chosen.push_back(i);
        for (std::size_t k = 0; k < r.inputs.size(); ++k) needed.insert(r.inputs[k]);
    }
    std::reverse(chosen.begin(), chosen.end());
    return write_ops(tape.records(), chosen, nullptr, options);
}

}  // namespace xg
