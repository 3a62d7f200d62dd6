#pragma once
// DOT text read back with Graphviz's own parser, so tests check what Graphviz sees rather
// than the text's spelling.
#include <map>
#include <string>
#include <vector>

#include <graphviz/cgraph.h>

namespace xg::testing {

/// An edge as Graphviz parsed it: tail and head node names, the edge's label and colour.
struct ParsedEdge {
    std::string tail, head, label, color;
};

/// A graph parsed by agmemread; `graph` is null when Graphviz rejected the text.
class ParsedGraph {
public:
    explicit ParsedGraph(const std::string& dot) : graph(agmemread(dot.c_str())) {}
    ~ParsedGraph() {
        if (graph) agclose(graph);
    }
    ParsedGraph(const ParsedGraph&) = delete;
    ParsedGraph& operator=(const ParsedGraph&) = delete;

    /// Node name -> label, counted by walking agfstnode/agnxtnode.
    std::map<std::string, std::string> nodes() const {
        std::map<std::string, std::string> out;
        for (Agnode_t* n = agfstnode(graph); n; n = agnxtnode(graph, n)) out[agnameof(n)] = attribute(n, "label");
        return out;
    }

    /// Every edge, walked with agfstout/agnxtout from each node.
    std::vector<ParsedEdge> edges() const {
        std::vector<ParsedEdge> out;
        for (Agnode_t* n = agfstnode(graph); n; n = agnxtnode(graph, n)) {
            for (Agedge_t* e = agfstout(graph, n); e; e = agnxtout(graph, e)) {
                out.push_back({agnameof(agtail(e)), agnameof(aghead(e)), attribute(e, "label"), attribute(e, "color")});
            }
        }
        return out;
    }

    /// The name of the node whose label is `label`, or "" if none.
    std::string node_labelled(const std::string& label) const {
        for (auto& [name, l] : nodes()) {
            if (l == label) return name;
        }
        return {};
    }

    /// Node `name`'s attribute `key` ("" if unset).
    std::string node_attribute(const std::string& name, const char* key) const {
        Agnode_t* n = agnode(graph, const_cast<char*>(name.c_str()), 0);
        return n ? attribute(n, key) : std::string("<no such node>");
    }

    /// The subgraph `name` directly inside `parent` (the root if null), or null.
    Agraph_t* subgraph(const std::string& name, Agraph_t* parent = nullptr) const {
        return agsubg(parent ? parent : graph, const_cast<char*>(name.c_str()), 0);
    }

    /// Names of the subgraphs directly inside `parent` (the root if null).
    std::vector<std::string> subgraph_names(Agraph_t* parent = nullptr) const {
        std::vector<std::string> out;
        for (Agraph_t* s = agfstsubg(parent ? parent : graph); s; s = agnxtsubg(s)) out.emplace_back(agnameof(s));
        return out;
    }

    /// Whether node `name` is inside subgraph `sub`.
    static bool contains(Agraph_t* sub, const std::string& name) {
        return sub && agnode(sub, const_cast<char*>(name.c_str()), 0) != nullptr;
    }

    /// An attribute of a node, edge or graph ("" if unset).
    static std::string attribute(void* object, const char* key) {
        const char* v = agget(object, const_cast<char*>(key));
        return v ? v : "";
    }

    Agraph_t* graph;
};

/// What a Graphviz label shows: its escapes undone (\\ -> \, \n \l \r -> newline).
inline std::string shown_label(const std::string& label) {
    std::string out;
    for (std::size_t i = 0; i < label.size(); ++i) {
        if (label[i] == '\\' && i + 1 < label.size()) {
            const char c = label[++i];
            out += (c == 'n' || c == 'l' || c == 'r') ? '\n' : c;
        } else {
            out += label[i];
        }
    }
    return out;
}

}  // namespace xg::testing
