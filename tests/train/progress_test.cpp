// ProgressBar and format_logs: the line per epoch when not live, the redrawn bar when live,
// and silence at verbose 0.
#include "xgrad/train/progress.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>

namespace {

const xg::Logs epoch_logs = {{"loss", 0.25704}, {"accuracy", 0.92518}};

}  // namespace

TEST_CASE("format_logs writes ' - key: value' with four decimals, in order") {
    CHECK(xg::format_logs(epoch_logs) == " - loss: 0.2570 - accuracy: 0.9252");
    CHECK(xg::format_logs({}).empty());
    CHECK(xg::format_logs({{"val_loss", 1.0}}) == " - val_loss: 1.0000");
}

TEST_CASE("not live, the bar prints one line when the epoch ends, Keras-style") {
    std::ostringstream out;
    xg::ProgressBar bar(out, 60000, 2, false);
    bar.update(128, {{"loss", 2.3}});
    bar.update(60000, epoch_logs);
    CHECK(out.str().empty());
    bar.finish(epoch_logs, 1.234, 469);
    CHECK(out.str() == "60000/60000 - 1.2s - 2.6ms/step - loss: 0.2570 - accuracy: 0.9252\n");
}

TEST_CASE("verbose 1 into something that is not a terminal prints the same single line") {
    std::ostringstream out;
    CHECK_FALSE(xg::is_terminal(out));
    xg::ProgressBar bar(out, 100, 1, xg::is_terminal(out));
    bar.update(50, epoch_logs);
    bar.update(100, epoch_logs);
    bar.finish(epoch_logs, 12.0, 8);
    CHECK(out.str() == "100/100 - 12s - 1.5s/step - loss: 0.2570 - accuracy: 0.9252\n");
    CHECK(out.str().find('\r') == std::string::npos);
}

TEST_CASE("step times are shown in s, ms or us") {
    std::ostringstream out;
    xg::ProgressBar(out, 10, 2, false).finish({}, 0.5, 10000);
    CHECK(out.str() == "10/10 - 0.5s - 50us/step\n");
}

TEST_CASE("verbose 0 prints nothing, live or not") {
    for (bool live : {false, true}) {
        std::ostringstream out;
        xg::ProgressBar bar(out, 10, 0, live);
        bar.update(10, epoch_logs);
        bar.finish(epoch_logs, 1.0, 1);
        CHECK(out.str().empty());
    }
}

TEST_CASE("live, the bar is redrawn in place with \\r and ends with a newline") {
    std::ostringstream out;
    xg::ProgressBar bar(out, 60000, 1, true);
    // Redraws are limited to one per 50 ms, except the last: a burst of updates draws at most a few.
    for (std::size_t seen = 128; seen < 128 * 201; seen += 128) bar.update(seen, {{"loss", 2.3}});
    const std::string burst = out.str();
    CHECK(std::count(burst.begin(), burst.end(), '\r') <= 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    out.str("");
    bar.update(30000, epoch_logs);
    const std::string half = out.str();
    CHECK(half.rfind("\r30000/60000 [===============>..............] - ETA: ", 0) == 0);
    CHECK(half.find(" - loss: 0.2570 - accuracy: 0.9252\033[K") != std::string::npos);
    bar.update(60000, epoch_logs);
    const std::string full = out.str().substr(half.size());
    CHECK(full.rfind("\r60000/60000 [" + std::string(30, '=') + "] - ETA: ", 0) == 0);
    bar.finish(epoch_logs, 1.234, 469);
    const std::string end = out.str().substr(half.size() + full.size());
    CHECK(end == "\r60000/60000 [" + std::string(30, '=') + "] - 1.2s 2.6ms/step - loss: 0.2570 - accuracy: 0.9252\033[K\n");
}

TEST_CASE("live is only for verbose 1: verbose 2 never redraws") {
    std::ostringstream out;
    xg::ProgressBar bar(out, 10, 2, true);
    bar.update(10, epoch_logs);
    CHECK(out.str().empty());
    bar.finish(epoch_logs, 1.0, 1);
    CHECK(out.str().find('\r') == std::string::npos);
}

TEST_CASE("is_terminal is false for streams other than cout and cerr") {
    std::ostringstream s;
    CHECK_FALSE(xg::is_terminal(s));
    std::ostream other(std::cout.rdbuf());
    CHECK_FALSE(xg::is_terminal(other));
}
