#include "xgrad/graph/layer_graph.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/graph/dot_text.hpp"

namespace xg {
namespace {

// Any layer whose settings name an activation shows it, whatever its type.
std::string activation_of(const Module& m) {
    const std::optional<LayerConfig> config = m.config();
    if (!config) return {};
    const auto it = config->find("activation");
    return it == config->end() ? std::string() : it->second;
}

// A Keras-like table: "name (Kind)" over input and output shapes.
std::string layer_box(const std::string& id, const std::string& name, const std::string& kind,
                      const std::string& activation, const Shape& in, const Shape& out) {
    std::string rows = fmt::format("<TR><TD COLSPAN=\"2\" BGCOLOR=\"#dae8fc\"><B>{}</B> ({})</TD></TR>", dot_html(name),
                                   dot_html(kind));
    if (!activation.empty()) {
        rows += fmt::format("<TR><TD ALIGN=\"LEFT\">activation:</TD><TD>{}</TD></TR>", dot_html(activation));
    }
    rows += fmt::format("<TR><TD ALIGN=\"LEFT\">input:</TD><TD>{}</TD></TR>", format_batch_shape(in));
    rows += fmt::format("<TR><TD ALIGN=\"LEFT\">output:</TD><TD>{}</TD></TR>", format_batch_shape(out));
    return fmt::format("{} [label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\">{}</TABLE>>];",
                       id, rows);
}

class LayerWriter {
public:
    explicit LayerWriter(const LayerGraphOptions& options) : options_(options) {}

    // Draws `layers` as a chain after node `previous`, which outputs samples of `shape`;
    // returns the id of the last node drawn, and leaves `shape` at the chain's output.
    std::string chain(const std::vector<std::shared_ptr<Module>>& layers, std::string previous, Shape& shape,
                      int depth) {
        for (const auto& layer : layers) previous = one(*layer, previous, shape, depth);
        return previous;
    }

    std::string one(Module& layer, const std::string& previous, Shape& shape, int depth) {
        const std::string indent(static_cast<std::size_t>(depth) * 4, ' ');
        if (options_.expand_nested && !layer.children().empty()) {
            out_ += fmt::format("{}subgraph {} {{\n", indent, dot_id(fmt::format("cluster_{}", clusters_++)));
            out_ += fmt::format("{}    graph [label={}, style=\"rounded\", color=\"#999999\", labeljust=\"l\"];\n",
                                indent, dot_label(layer.name() + " (" + layer.kind() + ")"));
            std::string last = chain(layer.children(), previous, shape, depth + 1);
            out_ += indent + "}\n";
            return last;
        }
        Shape in = shape;
        try {
            shape = layer.output_shape(in);
        } catch (const ShapeError& e) {
            throw ShapeError(fmt::format("layers_to_dot: layer '{}' ({}) cannot take inputs {} from the layer before "
                                         "it ({}); expected layers that apply one after another",
                                         layer.name(), layer.kind(), format_batch_shape(in), e.what()));
        }
        const std::string id = fmt::format("layer{}", layers_++);
        const std::string activation = options_.show_activations ? activation_of(layer) : std::string();
        out_ += indent + layer_box(id, layer.name(), layer.kind(), activation, in, shape) + "\n";
        edges_ += fmt::format("    {} -> {};\n", previous, id);
        return id;
    }

    std::string finish() { return out_ + edges_ + "}\n"; }
    void add(const std::string& text) { out_ += text; }

private:
    const LayerGraphOptions& options_;
    std::string out_, edges_;
    int layers_ = 0, clusters_ = 0;
};

}  // namespace

std::string layers_to_dot(Module& model, const Shape& input_shape, const LayerGraphOptions& options) {
    check_rankdir(options.rankdir, "layers_to_dot");
    LayerWriter w(options);
    w.add(fmt::format("digraph \"layers\" {{\n"
                      "    graph [rankdir=\"{}\", fontname=\"Helvetica\", fontsize=11, label={}, labelloc=\"t\"];\n"
                      "    node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n"
                      "    edge [color=\"#555555\"];\n",
                      options.rankdir, dot_label(model.name() + " (" + model.kind() + ")")));
    w.add(fmt::format("    {}\n", layer_box("input", "input", "InputLayer", {}, input_shape, input_shape)));
    Shape shape = input_shape;
    if (model.children().empty()) {
        w.one(model, "input", shape, 1);
    } else {
        w.chain(model.children(), "input", shape, 1);
    }
    return w.finish();
}

}  // namespace xg
