#include "xgrad/graph/dot_text.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "parsed_graph.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/graph/render.hpp"

using namespace xg;
using xg::testing::ParsedGraph;
using xg::testing::shown_label;

namespace {

// Texts that break naive quoting: quotes, backslashes (also before a quote and at the end),
// angle brackets, braces, record separators, newlines, label substitutions like \N.
const char* const awkward[] = {
    "a\"b\\c<d>", "plain", "", "ends with \\", "\\\"", "{x|y}", "<<html>>", "two\nlines", "\\N and \\G", "100% &amp;",
    "[brackets];", "tab\there", "caf\xc3\xa9",
};

}  // namespace

TEST_CASE("dot_label: escapes quotes, backslashes and newlines") {
    CHECK(dot_label("x") == "\"x\"");
    CHECK(dot_label("a\"b") == "\"a\\\"b\"");
    CHECK(dot_label("a\\b") == "\"a\\\\b\"");
    CHECK(dot_label("a\nb") == "\"a\\nb\"");
    CHECK(dot_label("<d>{e}") == "\"<d>{e}\"");
}

TEST_CASE("dot_label: every awkward text parses and reads back as itself") {
    for (const char* text : awkward) {
        CAPTURE(text);
        ParsedGraph g(fmt::format("digraph {{ n [label={}]; }}", dot_label(text)));
        REQUIRE(g.graph != nullptr);
        CHECK(shown_label(g.node_attribute("n", "label")) == std::string(text));
    }
}

TEST_CASE("dot_label: a label with \\N is drawn literally, not replaced by the node name") {
    const std::string svg = render_graph(fmt::format("digraph {{ node42 [label={}]; }}", dot_label("a\\Nb")), "svg");
    CHECK(svg.find(">a\\Nb<") != std::string::npos);
    CHECK(svg.find(">anode42b<") == std::string::npos);
}

TEST_CASE("dot_html: entities for markup characters, <BR/> for newlines") {
    CHECK(dot_html("a\"b\\c<d>&e") == "a&quot;b\\c&lt;d&gt;&amp;e");
    CHECK(dot_html("one\ntwo") == "one<BR/>two");
    for (const char* text : awkward) {
        CAPTURE(text);
        ParsedGraph g(std::string("digraph { n [label=<") + dot_html(text) + ">]; }");
        CHECK(g.graph != nullptr);
    }
}

TEST_CASE("dot_id: readable for plain names, quoted and distinct for the rest") {
    CHECK(dot_id("cluster_model/dense_1") == "\"cluster_model/dense_1\"");
    CHECK(dot_id("a b") == "\"a%20b\"");
    CHECK(dot_id("a%20b") == "\"a%2520b\"");
    std::string dot = "digraph {\n";
    for (const char* text : awkward) dot += fmt::format("    {};\n", dot_id(text));
    dot += "}\n";
    ParsedGraph g(dot);
    REQUIRE(g.graph != nullptr);
    CHECK(g.nodes().size() == std::size(awkward));
}

TEST_CASE("check_rankdir: the four Graphviz directions pass, others throw ValueError") {
    for (const char* d : {"TB", "LR", "BT", "RL"}) CHECK_NOTHROW(check_rankdir(d, "f"));
    CHECK_THROWS_AS(check_rankdir("tb", "f"), ValueError);
    CHECK_THROWS_WITH(check_rankdir("up", "f"), doctest::Contains("f: rankdir 'up'"));
}
