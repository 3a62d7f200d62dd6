#pragma once
// What the tests of the data readers share: the message of the IoError a read throws.
#include <exception>
#include <string>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

namespace xg::test {

/// The message of the IoError `f` throws; fails the test if it throws anything else or nothing.
template <class F>
std::string io_error(F&& f) {
    try {
        f();
    } catch (const IoError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL_CHECK("expected xg::IoError, got another exception: " << e.what());
        return {};
    }
    FAIL_CHECK("expected xg::IoError, nothing was thrown");
    return {};
}

/// Whether `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace xg::test
