#include "xgrad/graph/layer_graph.hpp"

#include <set>
#include <utility>

#include <doctest/doctest.h>

#include "parsed_graph.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"

using namespace xg;
using xg::testing::ParsedGraph;

namespace {

DenseOptions named(const std::string& name, const std::string& activation = "linear") {
    DenseOptions o;
    o.name = name;
    o.activation = activation;
    return o;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The rows of a layer box: "<B>name</B> (Kind)", then "input:" and "output:" shapes.
std::string title(const std::string& name, const std::string& kind) { return "<B>" + name + "</B> (" + kind + ")"; }
std::string row(const std::string& key, const std::string& value) {
    return "<TD ALIGN=\"LEFT\">" + key + ":</TD><TD>" + value + "</TD>";
}

}  // namespace

TEST_CASE("layers_to_dot: Sequential(Dense(784, 512, relu), Dense(512, 10, softmax)) is input -> dense_1 -> dense_2") {
    Sequential model;
    model.emplace<Dense>(784, 512, "relu");
    model.emplace<Dense>(512, 10, "softmax");
    const std::string dot = layers_to_dot(model, {784});
    ParsedGraph g(dot);
    REQUIRE(g.graph != nullptr);
    const auto nodes = g.nodes();
    REQUIRE(nodes.size() == 3);
    const auto edges = g.edges();
    REQUIRE(edges.size() == 2);

    const std::string input = nodes.at("input"), first = nodes.at("layer0"), second = nodes.at("layer1");
    CHECK(aghtmlstr(agget(agnode(g.graph, const_cast<char*>("layer0"), 0), const_cast<char*>("label"))));
    CHECK(has(input, title("input", "InputLayer")));
    CHECK(has(input, row("output", "(None, 784)")));
    CHECK(has(first, title("dense_1", "Dense")));
    CHECK(has(first, row("input", "(None, 784)")));
    CHECK(has(first, row("output", "(None, 512)")));
    CHECK(has(second, title("dense_2", "Dense")));
    CHECK(has(second, row("input", "(None, 512)")));
    CHECK(has(second, row("output", "(None, 10)")));
    CHECK_FALSE(has(first, "activation"));

    std::set<std::pair<std::string, std::string>> links;
    for (auto& e : edges) links.emplace(e.tail, e.head);
    CHECK(links == std::set<std::pair<std::string, std::string>>{{"input", "layer0"}, {"layer0", "layer1"}});
    CHECK(ParsedGraph::attribute(g.graph, "label") == "sequential_1 (Sequential)");
}

TEST_CASE("layers_to_dot: show_activations adds the activation of Dense and Activation layers") {
    Sequential model("model");
    model.emplace<Dense>(4, 3, named("hidden", "tanh"));
    model.emplace<Activation>("relu", "act");
    model.emplace<Softmax>("probs");
    LayerGraphOptions options;
    options.show_activations = true;
    ParsedGraph g(layers_to_dot(model, {4}, options));
    const auto nodes = g.nodes();
    REQUIRE(nodes.size() == 4);
    CHECK(has(nodes.at("layer0"), row("activation", "tanh")));
    CHECK(has(nodes.at("layer1"), title("act", "Activation")));
    CHECK(has(nodes.at("layer1"), row("activation", "relu")));
    CHECK(has(nodes.at("layer2"), title("probs", "Softmax")));
    CHECK(has(nodes.at("layer2"), row("output", "(None, 3)")));
    CHECK_FALSE(has(nodes.at("layer2"), "activation"));
}

TEST_CASE("layers_to_dot: a nested Sequential is one box, or a cluster of its layers with expand_nested") {
    Sequential model("outer");
    auto block = std::make_shared<Sequential>("block");
    block->emplace<Dense>(8, 6, named("inner_1"));
    block->emplace<Dense>(6, 5, named("inner_2"));
    model.add(block);
    model.emplace<Dense>(5, 2, named("head"));

    ParsedGraph folded(layers_to_dot(model, {8}));
    REQUIRE(folded.nodes().size() == 3);
    CHECK(has(folded.nodes().at("layer0"), title("block", "Sequential")));
    CHECK(has(folded.nodes().at("layer0"), row("output", "(None, 5)")));
    CHECK(folded.subgraph_names().empty());

    LayerGraphOptions options;
    options.expand_nested = true;
    ParsedGraph expanded(layers_to_dot(model, {8}, options));
    const auto nodes = expanded.nodes();
    REQUIRE(nodes.size() == 4);
    CHECK(expanded.edges().size() == 3);
    CHECK(has(nodes.at("layer0"), title("inner_1", "Dense")));
    CHECK(has(nodes.at("layer1"), row("output", "(None, 5)")));
    CHECK(has(nodes.at("layer2"), title("head", "Dense")));
    CHECK(has(nodes.at("layer2"), row("input", "(None, 5)")));
    const auto clusters = expanded.subgraph_names();
    REQUIRE(clusters.size() == 1);
    Agraph_t* cluster = expanded.subgraph(clusters[0]);
    CHECK(clusters[0].starts_with("cluster"));
    CHECK(ParsedGraph::attribute(cluster, "label") == "block (Sequential)");
    CHECK(ParsedGraph::contains(cluster, "layer0"));
    CHECK(ParsedGraph::contains(cluster, "layer1"));
    CHECK_FALSE(ParsedGraph::contains(cluster, "layer2"));
}

TEST_CASE("layers_to_dot: a module without children is drawn as one layer") {
    Dense layer(3, 2, named("solo"));
    ParsedGraph g(layers_to_dot(layer, {3}));
    REQUIRE(g.nodes().size() == 2);
    CHECK(has(g.nodes().at("layer0"), title("solo", "Dense")));
    CHECK(has(g.nodes().at("layer0"), row("output", "(None, 2)")));
}

TEST_CASE("layers_to_dot: names are escaped for HTML labels") {
    Sequential model("m");
    model.emplace<Dense>(2, 2, named("a\"b\\c<d>{e}&"));
    ParsedGraph g(layers_to_dot(model, {2}));
    REQUIRE(g.graph != nullptr);
    CHECK(has(g.nodes().at("layer0"), "<B>a&quot;b\\c&lt;d&gt;{e}&amp;</B>"));
}

TEST_CASE("layers_to_dot: errors") {
    Sequential model("m");
    model.emplace<Dense>(4, 3, named("first"));
    CHECK_THROWS_AS(layers_to_dot(model, {5}), ShapeError);
    CHECK_THROWS_WITH(layers_to_dot(model, {5}), doctest::Contains("layers_to_dot: layer 'first' (Dense)"));
    LayerGraphOptions options;
    options.rankdir = "diagonal";
    CHECK_THROWS_AS(layers_to_dot(model, {4}, options), ValueError);
}

TEST_CASE("layers_to_dot: the book's convnet shows every layer with its input and output shapes, as plot_model does") {
    Sequential model;
    model.emplace<Conv2D>(1, 32, Size2{3, 3}, "relu");
    model.emplace<MaxPooling2D>(Size2{2, 2});
    model.emplace<Conv2D>(32, 64, Size2{3, 3}, "relu");
    model.emplace<Flatten>();
    model.emplace<Dense>(11 * 11 * 64, 10, "softmax");
    const std::string dot = layers_to_dot(model, {28, 28, 1}, {.show_activations = true});
    ParsedGraph g(dot);
    REQUIRE(g.graph != nullptr);
    const auto nodes = g.nodes();
    REQUIRE(nodes.size() == 6);
    CHECK(g.edges().size() == 5);
    CHECK(has(nodes.at("input"), row("output", "(None, 28, 28, 1)")));
    CHECK(has(nodes.at("layer0"), title("conv2d_1", "Conv2D")));
    CHECK(has(nodes.at("layer0"), row("activation", "relu")));
    CHECK(has(nodes.at("layer0"), row("output", "(None, 26, 26, 32)")));
    CHECK(has(nodes.at("layer1"), title("max_pooling2d_1", "MaxPooling2D")));
    CHECK(has(nodes.at("layer1"), row("input", "(None, 26, 26, 32)")));
    CHECK(has(nodes.at("layer1"), row("output", "(None, 13, 13, 32)")));
    CHECK(has(nodes.at("layer2"), row("output", "(None, 11, 11, 64)")));
    CHECK(has(nodes.at("layer3"), title("flatten_1", "Flatten")));
    CHECK(has(nodes.at("layer3"), row("output", "(None, 7744)")));
    CHECK(has(nodes.at("layer4"), row("output", "(None, 10)")));
}
