#include "xgrad/autograd/op_attributes.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("OpAttributes keeps each setting's kind and reads it back") {
    const xg::OpAttributes a{{"axis", std::size_t{2}},
                             {"keepdims", true},
                             {"p", 2.5f},
                             {"epsilon", 0.001},
                             {"strides", xg::Size2{2, 1}},
                             {"perm", std::vector<long>{0, 2, 1}},
                             {"padding", "same"}};
    CHECK(a.integer("axis") == 2);
    CHECK(a.flag("keepdims"));
    CHECK(a.number("p") == 2.5f);
    CHECK(a.number("epsilon") == 0.001f);  // kept as the float an op runs with
    CHECK(a.integers("strides") == std::vector<long>{2, 1});
    CHECK(a.integers("perm") == std::vector<long>{0, 2, 1});
    CHECK(a.word("padding") == "same");
    CHECK(a.has("axis"));
    CHECK_FALSE(a.has("rate"));
    CHECK_FALSE(a.flag("training"));  // an absent flag is false
    CHECK(a.entries().size() == 7);
    CHECK(a.entries()[0].name == "axis");  // in the order given
}

TEST_CASE("OpAttributes::to_string: name=value in order, flags by name, tuples as Python writes them") {
    CHECK(xg::OpAttributes{}.to_string().empty());
    CHECK(xg::OpAttributes{{"axis", 1}, {"keepdims", true}}.to_string() == "axis=1, keepdims");
    CHECK(xg::OpAttributes{{"axis", 1}, {"keepdims", false}}.to_string() == "axis=1");
    CHECK(xg::OpAttributes{{"keepdims", false}, {"axis", -1}}.to_string() == "axis=-1");
    CHECK(xg::OpAttributes{{"shape", xg::Shape{6}}}.to_string() == "shape=(6,)");
    CHECK(xg::OpAttributes{{"strides", xg::Size2{2, 2}}, {"padding", "valid"}}.to_string() ==
          "strides=(2, 2), padding=valid");
    // The fewest digits that read back as the float: 0.1f is "0.1", not its double expansion.
    CHECK(xg::OpAttributes{{"rate", 0.1f}, {"epsilon", 1e-7}}.to_string() == "rate=0.1, epsilon=1e-07");
    // A long tuple (a gather's indices) by its first eight and its length; eight are written out.
    CHECK(xg::OpAttributes{{"indices", std::vector<long>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}}.to_string() ==
          "indices=(9, 8, 7, 6, 5, 4, 3, 2, ... 10 in all)");
    CHECK(xg::OpAttributes{{"indices", std::vector<long>{7, 6, 5, 4, 3, 2, 1, 0}}}.to_string() ==
          "indices=(7, 6, 5, 4, 3, 2, 1, 0)");
    // The reader still gets all of them.
    CHECK(xg::OpAttributes{{"indices", std::vector<long>(100, 3)}}.integers("indices").size() == 100);
}

TEST_CASE("OpAttributes: a name absent, of another kind, given twice or empty is a ValueError naming it") {
    const xg::OpAttributes a{{"axis", 1}, {"padding", "same"}};
    CHECK_THROWS_WITH_AS(a.integer("perm"), doctest::Contains("no 'perm'"), xg::ValueError);
    CHECK_THROWS_WITH_AS(a.integer("perm"), doctest::Contains("axis=1, padding=same"), xg::ValueError);
    CHECK_THROWS_WITH_AS(a.word("axis"), doctest::Contains("'axis' is a whole number; expected a word"), xg::ValueError);
    CHECK_THROWS_WITH_AS(a.integers("axis"), doctest::Contains("expected a tuple"), xg::ValueError);
    CHECK_THROWS_WITH_AS(a.number("padding"), doctest::Contains("'padding' is a word"), xg::ValueError);
    CHECK_THROWS_WITH_AS(a.flag("padding"), doctest::Contains("expected a flag"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::OpAttributes{}.integer("axis"), doctest::Contains("(none)"), xg::ValueError);
    CHECK_THROWS_WITH_AS((xg::OpAttributes{{"axis", 1}, {"axis", 2}}), doctest::Contains("'axis' is already set"),
                         xg::ValueError);
    xg::OpAttributes b;
    CHECK_THROWS_AS(b.add("", 1), xg::ValueError);
    CHECK(b.empty());
    // A whole number no attribute can hold.
    CHECK_THROWS_WITH_AS(b.add("n", std::numeric_limits<std::uint64_t>::max()),
                         doctest::Contains("past the largest whole number"), xg::ValueError);
    b.add("n", std::uint64_t{7}).add(xg::OpAttributes{{"m", -3}});
    CHECK(b.to_string() == "n=7, m=-3");
    CHECK_THROWS_AS(b.add(xg::OpAttributes{{"m", 1}}), xg::ValueError);
}

TEST_CASE("a library op records the values it ran with") {
    const xg::Tensor x = xg::parameter(xg::Array::from_shape({2, 5}), "x");
    const xg::Tensor s = xg::slice(x, -1, 1, 4);
    const xg::OpAttributes& a = s.creator()->attributes();
    CHECK(a.integer("axis") == 1);
    CHECK(a.integer("begin") == 1);
    CHECK(a.integer("end") == 4);
    CHECK(a.to_string() == "axis=1, begin=1, end=4");
    const xg::OpAttributes& c = xg::clip(x, -1.5f, 0.25f).creator()->attributes();
    CHECK(c.number("min") == -1.5f);
    CHECK(c.number("max") == 0.25f);
    CHECK(xg::transpose(x, {1, 0}).creator()->attributes().integers("perm") == std::vector<long>{1, 0});
    xg::Tape::current().clear();
}
