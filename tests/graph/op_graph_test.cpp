#include "xgrad/graph/op_graph.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "parsed_graph.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"

using namespace xg;
using xg::testing::ParsedGraph;
using xg::testing::shown_label;

namespace {

using Edge = std::tuple<std::string, std::string, std::string>;  // tail label, head label, edge label

// Node name -> the label as drawn.
std::map<std::string, std::string> shown_nodes(const ParsedGraph& g) {
    std::map<std::string, std::string> out;
    for (auto& [name, label] : g.nodes()) out[name] = shown_label(label);
    return out;
}

std::multiset<Edge> shown_edges(const ParsedGraph& g) {
    auto labels = shown_nodes(g);
    std::multiset<Edge> out;
    for (auto& e : g.edges()) out.insert({labels[e.tail], labels[e.head], shown_label(e.label)});
    return out;
}

std::set<std::string> label_set(const ParsedGraph& g) {
    std::set<std::string> out;
    for (auto& [name, label] : shown_nodes(g)) out.insert(label);
    return out;
}

std::string name_of(const ParsedGraph& g, const std::string& label) {
    for (auto& [name, l] : shown_nodes(g)) {
        if (l == label) return name;
    }
    return "<no node labelled " + label + ">";
}

// y = relu(x . W + b) with the three ops recorded in scope "dense".
struct DenseByHand {
    Tensor x = input(xt::ones<float>({4, 3}), "x");
    Tensor w = parameter(xt::ones<float>({3, 2}), "dense/kernel");
    Tensor b = parameter(xt::zeros<float>({2}), "dense/bias");
    Tensor y;
    DenseByHand() {
        Tape::current().clear();
        ScopeGuard scope("dense");
        y = relu(add(matmul(x, w), b));
    }
};

const std::multiset<Edge> dense_by_hand_edges = {
    {"x (4, 3)", "matmul\n(4, 2)", "(4, 3)"},
    {"dense/kernel (3, 2)", "matmul\n(4, 2)", "(3, 2)"},
    {"matmul\n(4, 2)", "add\n(4, 2)", "(4, 2)"},
    {"dense/bias (2,)", "add\n(4, 2)", "(2,)"},
    {"add\n(4, 2)", "relu\n(4, 2)", "(4, 2)"},
};

}  // namespace

TEST_CASE("ops_to_dot(tape): relu(x . W + b) parses to exactly its 6 nodes and 5 edges") {
    DenseByHand m;
    ParsedGraph g(ops_to_dot(Tape::current()));
    REQUIRE(g.graph != nullptr);
    CHECK(label_set(g) == std::set<std::string>{"x (4, 3)", "dense/kernel (3, 2)", "dense/bias (2,)", "matmul\n(4, 2)",
                                                "add\n(4, 2)", "relu\n(4, 2)"});
    CHECK(g.nodes().size() == 6);
    CHECK(g.edges().size() == 5);
    CHECK(agnnodes(g.graph) == 6);
    CHECK(agnedges(g.graph) == 5);
    CHECK(shown_edges(g) == dense_by_hand_edges);
}

TEST_CASE("ops_to_dot: inputs, parameters and ops are drawn as different kinds of node") {
    DenseByHand m;
    ParsedGraph g(ops_to_dot(m.y));
    const std::string x = name_of(g, "x (4, 3)"), w = name_of(g, "dense/kernel (3, 2)"), op = name_of(g, "add\n(4, 2)");
    CHECK(g.node_attribute(x, "shape") == "ellipse");
    CHECK(g.node_attribute(w, "shape") == "box");
    CHECK(g.node_attribute(op, "shape") == "box");
    CHECK(g.node_attribute(x, "fillcolor") != g.node_attribute(w, "fillcolor"));
    CHECK(g.node_attribute(w, "fillcolor") != g.node_attribute(op, "fillcolor"));
    CHECK(g.node_attribute(op, "style").find("rounded") != std::string::npos);
}

TEST_CASE("ops_to_dot: ops and the parameters they use sit in the cluster of their scope; inputs stay outside") {
    DenseByHand m;
    ParsedGraph g(ops_to_dot(m.y));
    CHECK(g.subgraph_names() == std::vector<std::string>{"cluster_dense"});
    Agraph_t* dense = g.subgraph("cluster_dense");
    REQUIRE(dense != nullptr);
    CHECK(ParsedGraph::attribute(dense, "label") == "dense");
    for (const char* label : {"matmul\n(4, 2)", "add\n(4, 2)", "relu\n(4, 2)", "dense/kernel (3, 2)", "dense/bias (2,)"}) {
        CAPTURE(label);
        CHECK(ParsedGraph::contains(dense, name_of(g, label)));
    }
    CHECK_FALSE(ParsedGraph::contains(dense, name_of(g, "x (4, 3)")));
}

TEST_CASE("ops_to_dot: nested scopes become nested clusters") {
    Tape::current().clear();
    Tensor x = input(xt::ones<float>({2, 3}), "x");
    Tensor w = parameter(xt::ones<float>({3, 3}), "w");
    Tensor y;
    {
        ScopeGuard model("model");
        {
            ScopeGuard layer("dense_1");
            y = matmul(x, w);
        }
        y = tanh(y);
    }
    y = sum(y);
    ParsedGraph g(ops_to_dot(y));
    REQUIRE(g.graph != nullptr);
    CHECK(g.subgraph_names() == std::vector<std::string>{"cluster_model"});
    Agraph_t* model = g.subgraph("cluster_model");
    REQUIRE(g.subgraph_names(model) == std::vector<std::string>{"cluster_model/dense_1"});
    Agraph_t* layer = g.subgraph("cluster_model/dense_1", model);
    CHECK(ParsedGraph::attribute(layer, "label") == "dense_1");
    CHECK(ParsedGraph::contains(layer, name_of(g, "matmul\n(2, 3)")));
    CHECK(ParsedGraph::contains(layer, name_of(g, "w (3, 3)")));
    CHECK(ParsedGraph::contains(model, name_of(g, "tanh\n(2, 3)")));
    CHECK_FALSE(ParsedGraph::contains(layer, name_of(g, "tanh\n(2, 3)")));
    CHECK_FALSE(ParsedGraph::contains(model, name_of(g, "sum\n()")));
}

TEST_CASE("ops_to_dot: a parameter used by two modules sits in their common scope") {
    Tape::current().clear();
    Tensor x = input(xt::ones<float>({2, 2}), "x");
    Tensor shared = parameter(xt::ones<float>({2, 2}), "shared");
    Tensor y;
    {
        ScopeGuard model("model");
        {
            ScopeGuard a("a");
            y = matmul(x, shared);
        }
        ScopeGuard b("b");
        y = matmul(y, shared);
    }
    ParsedGraph g(ops_to_dot(y));
    Agraph_t* model = g.subgraph("cluster_model");
    REQUIRE(model != nullptr);
    const std::string node = name_of(g, "shared (2, 2)");
    CHECK(ParsedGraph::contains(model, node));
    CHECK_FALSE(ParsedGraph::contains(g.subgraph("cluster_model/a", model), node));
    CHECK_FALSE(ParsedGraph::contains(g.subgraph("cluster_model/b", model), node));
}

TEST_CASE("ops_to_dot(output) draws only what the output depends on; the tape view draws everything") {
    DenseByHand m;
    Tensor unrelated = sum(m.w);
    ParsedGraph from_output(ops_to_dot(m.y));
    CHECK(from_output.nodes().size() == 6);
    CHECK(shown_edges(from_output) == dense_by_hand_edges);
    ParsedGraph from_tape(ops_to_dot(Tape::current()));
    CHECK(from_tape.nodes().size() == 7);
    CHECK(from_tape.edges().size() == 6);
    CHECK(label_set(from_tape).contains("sum\n()"));
    ParsedGraph from_sum(ops_to_dot(unrelated));
    CHECK(label_set(from_sum) == std::set<std::string>{"dense/kernel (3, 2)", "sum\n()"});
}

TEST_CASE("ops_to_dot: attributes are part of the op label") {
    DenseByHand m;
    Tensor s = sum(m.y, 1);
    Tensor p = softmax(m.y, -1);
    ParsedGraph g(ops_to_dot(Tape::current()));
    CHECK(label_set(g).contains("sum\naxis=1\n(4,)"));
    CHECK(label_set(g).contains("softmax\naxis=1\n(4, 2)"));
}

TEST_CASE("ops_to_dot: a tiny Sequential reads like the model") {
    Tape::current().clear();
    Sequential model;
    model.emplace<Dense>(4, 3, "relu");
    model.emplace<Dense>(3, 2, "softmax");
    Tensor y = model(input(xt::ones<float>({5, 4}), "x"));
    ParsedGraph g(ops_to_dot(y));
    REQUIRE(g.graph != nullptr);
    CHECK(label_set(g) == std::set<std::string>{"x (5, 4)", "dense_1/kernel (4, 3)", "dense_1/bias (3,)",
                                                "dense_2/kernel (3, 2)", "dense_2/bias (2,)", "linear\n(5, 3)",
                                                "relu\n(5, 3)", "linear\n(5, 2)", "softmax\naxis=1\n(5, 2)"});
    CHECK(g.nodes().size() == 9);
    CHECK(g.edges().size() == 8);
    CHECK(shown_edges(g) == std::multiset<Edge>{
                                {"x (5, 4)", "linear\n(5, 3)", "(5, 4)"},
                                {"dense_1/kernel (4, 3)", "linear\n(5, 3)", "(4, 3)"},
                                {"dense_1/bias (3,)", "linear\n(5, 3)", "(3,)"},
                                {"linear\n(5, 3)", "relu\n(5, 3)", "(5, 3)"},
                                {"relu\n(5, 3)", "linear\n(5, 2)", "(5, 3)"},
                                {"dense_2/kernel (3, 2)", "linear\n(5, 2)", "(3, 2)"},
                                {"dense_2/bias (2,)", "linear\n(5, 2)", "(2,)"},
                                {"linear\n(5, 2)", "softmax\naxis=1\n(5, 2)", "(5, 2)"},
                            });
    Agraph_t* seq = g.subgraph("cluster_sequential_1");
    REQUIRE(seq != nullptr);
    auto layers = g.subgraph_names(seq);  // cgraph keeps subgraphs in no particular order
    std::sort(layers.begin(), layers.end());
    CHECK(layers == std::vector<std::string>{"cluster_sequential_1/dense_1", "cluster_sequential_1/dense_2"});
    Agraph_t* d2 = g.subgraph("cluster_sequential_1/dense_2", seq);
    CHECK(ParsedGraph::contains(d2, name_of(g, "dense_2/kernel (3, 2)")));
    CHECK(ParsedGraph::contains(d2, name_of(g, "softmax\naxis=1\n(5, 2)")));
    CHECK_FALSE(ParsedGraph::contains(d2, name_of(g, "relu\n(5, 3)")));
}

TEST_CASE("ops_to_dot: a tensor used twice gives two edges") {
    Tape::current().clear();
    Tensor a = parameter(xt::ones<float>({2}), "a");
    ParsedGraph g(ops_to_dot(a + a));
    CHECK(g.nodes().size() == 2);
    CHECK(shown_edges(g) == std::multiset<Edge>{{"a (2,)", "add\n(2,)", "(2,)"}, {"a (2,)", "add\n(2,)", "(2,)"}});
}

TEST_CASE("ops_to_dot: constants, frozen parameters and unrecorded results are labelled as such") {
    Tape::current().clear();
    Tensor x = input(xt::ones<float>({2, 2}), "x");
    Tensor frozen = parameter(xt::ones<float>({2, 2}), "frozen");
    frozen.set_requires_grad(false);
    Tensor w = parameter(xt::ones<float>({2, 2}), "w");
    Tensor h = relu(x);  // no input requires a gradient: not recorded
    Tensor y = add(matmul(h, w), frozen) * 2.0f;
    ParsedGraph g(ops_to_dot(y));
    const auto labels = label_set(g);
    CHECK(labels.contains("2"));
    CHECK(labels.contains("frozen (2, 2)\nfrozen"));
    CHECK(labels.contains("result (2, 2)\nnot recorded"));
    CHECK(g.node_attribute(name_of(g, "2"), "fillcolor") != g.node_attribute(name_of(g, "x (2, 2)"), "fillcolor"));
    CHECK_FALSE(labels.contains("x (2, 2)"));  // relu(x) was not recorded, so x is not drawn
}

TEST_CASE("ops_to_dot: gradient_path colours what backward goes through") {
    DenseByHand m;
    GraphOptions options;
    options.gradient_path = true;
    ParsedGraph g(ops_to_dot(m.y, options));
    const auto labels = shown_nodes(g);
    for (auto& e : g.edges()) {
        const std::string tail = labels.at(e.tail);
        CAPTURE(tail);
        if (tail == "x (4, 3)") {
            CHECK(e.color != "#c0392b");
        } else {
            CHECK(e.color == "#c0392b");
        }
    }
    CHECK(g.node_attribute(name_of(g, "dense/kernel (3, 2)"), "color") == "#c0392b");
    CHECK(g.node_attribute(name_of(g, "x (4, 3)"), "color") != "#c0392b");
    CHECK(g.node_attribute(name_of(g, "relu\n(4, 2)"), "penwidth") == "2");
    ParsedGraph plain(ops_to_dot(m.y));
    for (auto& e : plain.edges()) CHECK(e.color != "#c0392b");
}

TEST_CASE("ops_to_dot: gradient_norms shows each parameter's gradient L2 norm, or that it has none") {
    DenseByHand m;
    Tensor unused = parameter(xt::ones<float>({4, 2}), "unused");
    Tensor loss = sum(m.y);
    Tensor side = mul(m.y, unused);  // recorded after loss: backward from loss never reaches it
    loss.backward(true);
    REQUIRE(m.w.has_grad());
    double squares = 0;
    for (float v : m.w.grad()) squares += double(v) * v;
    GraphOptions options;
    options.gradient_norms = true;
    ParsedGraph g(ops_to_dot(Tape::current(), options));
    const auto labels = label_set(g);
    CHECK(labels.contains(fmt::format("dense/kernel (3, 2)\ngrad L2 = {:.4g}", std::sqrt(squares))));
    CHECK(labels.contains(fmt::format("dense/bias (2,)\ngrad L2 = {:.4g}", std::sqrt(32.0))));  // 4 per unit
    CHECK(labels.contains("unused (4, 2)\nno gradient"));
    CHECK(labels.contains("x (4, 3)"));
}

TEST_CASE("ops_to_dot: names with quotes, backslashes, brackets, braces and newlines survive Graphviz") {
    Tape::current().clear();
    const std::string name = "a\"b\\c<d>{e}|f\ng\\";
    const std::string scope = "scope \"q\" {x}\\";
    Tensor w = parameter(xt::ones<float>({2, 2}), name);
    Tensor y;
    {
        ScopeGuard s(scope);
        y = square(w);
    }
    ParsedGraph g(ops_to_dot(y));
    REQUIRE(g.graph != nullptr);
    CHECK(label_set(g) == std::set<std::string>{name + " (2, 2)", "square\n(2, 2)"});
    const auto subgraphs = g.subgraph_names();
    REQUIRE(subgraphs.size() == 1);
    CHECK(shown_label(ParsedGraph::attribute(g.subgraph(subgraphs[0]), "label")) == scope);
    // The label as Graphviz stores it, before its own escapes are undone.
    CHECK(g.nodes().at(name_of(g, name + " (2, 2)")) == "a\"b\\\\c<d>{e}|f\\ng\\\\ (2, 2)");
}

TEST_CASE("ops_to_dot: edge cases") {
    SUBCASE("an empty tape is an empty graph") {
        Tape::current().clear();
        ParsedGraph g(ops_to_dot(Tape::current()));
        REQUIRE(g.graph != nullptr);
        CHECK(g.nodes().empty());
    }
    SUBCASE("a leaf is one node") {
        Tape::current().clear();
        ParsedGraph g(ops_to_dot(parameter(xt::ones<float>({3}), "p")));
        CHECK(label_set(g) == std::set<std::string>{"p (3,)"});
        CHECK(g.edges().empty());
    }
    SUBCASE("a result recorded before the tape was cleared throws StateError") {
        DenseByHand m;
        Tensor loss = sum(m.y);
        loss.backward();
        CHECK_THROWS_AS(ops_to_dot(loss), StateError);
        CHECK_THROWS_WITH(ops_to_dot(m.y), doctest::Contains("ops_to_dot: output (4, 2) was recorded on a tape"));
    }
    SUBCASE("an empty handle throws StateError") { CHECK_THROWS_AS(ops_to_dot(Tensor()), StateError); }
    SUBCASE("an unknown rankdir throws ValueError") {
        GraphOptions options;
        options.rankdir = "sideways";
        CHECK_THROWS_AS(ops_to_dot(Tape::current(), options), ValueError);
    }
    SUBCASE("rankdir is passed to Graphviz") {
        DenseByHand m;
        GraphOptions options;
        options.rankdir = "LR";
        ParsedGraph g(ops_to_dot(m.y, options));
        CHECK(ParsedGraph::attribute(g.graph, "rankdir") == "LR");
    }
}

TEST_CASE("ops_to_dot: a convnet's conv and pooling ops sit in their layers' clusters, shapes on the edges") {
    Tape::current().clear();
    Sequential net("net");
    net.emplace<Conv2D>(1, 4, Size2{3, 3}, "relu");
    net.emplace<MaxPooling2D>(Size2{2, 2});
    net.emplace<Flatten>();
    net.emplace<Dense>(3 * 3 * 4, 2, "softmax");
    const Tensor y = sum(net(input(xt::ones<float>({2, 8, 8, 1}), "images")));
    ParsedGraph g(ops_to_dot(y));
    REQUIRE(g.graph != nullptr);
    Agraph_t* model = g.subgraph("cluster_net");
    REQUIRE(model != nullptr);
    const auto layers = g.subgraph_names(model);
    for (const char* name : {"cluster_net/conv2d_1", "cluster_net/max_pooling2d_1", "cluster_net/flatten_1",
                             "cluster_net/dense_1"}) {
        CAPTURE(name);
        CHECK(std::find(layers.begin(), layers.end(), name) != layers.end());
    }
    // The op nodes whose name starts with `op`, in the cluster of `layer`.
    auto ops_in = [&](const std::string& op, const std::string& layer) {
        Agraph_t* cluster = g.subgraph("cluster_net/" + layer, model);
        std::size_t found = 0;
        for (auto& [node, label] : shown_nodes(g)) {
            // An op's label is "name\n(shape)"; a parameter's ("conv2d_1/kernel (3, 3, 1, 4)") has no line break.
            const bool is_op = label.find('\n') != std::string::npos;
            if (is_op && label.rfind(op, 0) == 0 && cluster && ParsedGraph::contains(cluster, node)) ++found;
        }
        return found;
    };
    CHECK(ops_in("conv2d", "conv2d_1") == 1);
    CHECK(ops_in("relu", "conv2d_1") == 1);
    CHECK(ops_in("max_pool2d", "max_pooling2d_1") == 1);
    CHECK(ops_in("reshape", "flatten_1") == 1);
    // Shapes on the edges: the images into the conv, the conv's output into relu, the pooled maps.
    std::set<std::string> edge_labels;
    for (auto& [tail, head, label] : shown_edges(g)) edge_labels.insert(label);
    for (const char* shape : {"(2, 8, 8, 1)", "(2, 6, 6, 4)", "(2, 3, 3, 4)", "(2, 36)", "(3, 3, 1, 4)"}) {
        CAPTURE(shape);
        CHECK(edge_labels.count(shape) == 1);
    }
    Tape::current().clear();
}
