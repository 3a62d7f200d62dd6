// Tests for lib/xgrad/core/threads.cpp: the library's thread count.
#include "xgrad/core/threads.hpp"

#include <string>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

extern "C" int openblas_get_num_threads(void);

// First in this file, so that nothing of xgrad has run yet: the switch happens at load time.
TEST_CASE("OpenBLAS is kept to the calling thread from the moment the library is loaded") {
    CHECK(openblas_get_num_threads() == 1);
    const int before = xg::num_threads();
    xg::set_num_threads(2);  // xgrad's count, not OpenBLAS's
    CHECK(openblas_get_num_threads() == 1);
    xg::set_num_threads(before);
}

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
