// Tests for lib/xgrad/core/threads.cpp: the library's thread count.
#include "xgrad/core/threads.hpp"

#include <string>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("the thread count can be set and read back") {
    const int before = xg::num_threads();
    CHECK(before >= 1);
    xg::set_num_threads(1);
    CHECK(xg::num_threads() == 1);
    xg::set_num_threads(3);
    CHECK(xg::num_threads() == 3);
    xg::set_num_threads(before);
    CHECK(xg::num_threads() == before);
}

TEST_CASE("a thread count below one is a ValueError naming it, and changes nothing") {
    const int before = xg::num_threads();
    for (int n : {0, -2}) {
        try {
            xg::set_num_threads(n);
            FAIL("set_num_threads(" << n << ") did not throw");
        } catch (const xg::ValueError& e) {
            CHECK(std::string(e.what()).find("set_num_threads") != std::string::npos);
            CHECK(std::string(e.what()).find(std::to_string(n)) != std::string::npos);
        }
        CHECK(xg::num_threads() == before);
    }
}
