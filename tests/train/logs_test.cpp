// Logs: lookup by key, presence, and the error that names the keys there are.
#include "xgrad/train/logs.hpp"

#include <string>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("log_value finds a key and keeps display order") {
    const xg::Logs logs = {{"loss", 0.25}, {"accuracy", 0.9}, {"val_loss", 0.3}};
    CHECK(xg::log_value(logs, "loss") == 0.25);
    CHECK(xg::log_value(logs, "val_loss") == 0.3);
    CHECK(logs[1].first == "accuracy");
    CHECK(xg::has_log(logs, "accuracy"));
    CHECK_FALSE(xg::has_log(logs, "val_accuracy"));
    CHECK_FALSE(xg::has_log({}, "loss"));
}

TEST_CASE("a missing key is a ValueError listing the keys that exist") {
    const xg::Logs logs = {{"loss", 0.25}, {"accuracy", 0.9}};
    try {
        xg::log_value(logs, "val_loss");
        FAIL("expected ValueError");
    } catch (const xg::ValueError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("'val_loss'") != std::string::npos);
        CHECK(msg.find("loss, accuracy") != std::string::npos);
    }
    CHECK_THROWS_AS(xg::log_value({}, "loss"), xg::ValueError);
}
