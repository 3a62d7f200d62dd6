#include "xgrad/train/progress.hpp"

#include <iostream>

#include <fmt/format.h>
#include <unistd.h>

namespace xg {
namespace {

constexpr int bar_width = 30;
constexpr auto redraw_interval = std::chrono::milliseconds(50);

std::string format_seconds(double s) { return s < 10.0 ? fmt::format("{:.1f}s", s) : fmt::format("{:.0f}s", s); }

std::string format_step_time(double s) {
    if (s >= 1.0) return fmt::format("{:.1f}s/step", s);
    if (s >= 1e-3) return fmt::format("{:.1f}ms/step", s * 1e3);
    return fmt::format("{:.0f}us/step", s * 1e6);
}

}  // namespace

bool is_terminal(const std::ostream& out) {
    if (&out == &std::cout) return isatty(STDOUT_FILENO) != 0;
    if (&out == &std::cerr) return isatty(STDERR_FILENO) != 0;
    return false;
}

std::string format_logs(const Logs& logs) {
    std::string s;
    for (auto& [key, value] : logs) s += fmt::format(" - {}: {:.4f}", key, value);
    return s;
}

ProgressBar::ProgressBar(std::ostream& out, std::size_t total, int verbose, bool live)
    : out_(out), total_(total), verbose_(verbose), live_(live && verbose == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void ProgressBar::update(std::size_t seen, const Logs& logs) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (seen < total_ && now - last_draw_ < redraw_interval) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const int filled = total_ == 0 ? bar_width : static_cast<int>(bar_width * seen / total_);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < bar_width) bar += '>' + std::string(static_cast<std::size_t>(bar_width - filled - 1), '.');
    const double eta = seen == 0 ? 0.0 : elapsed * static_cast<double>(total_ - seen) / static_cast<double>(seen);
    const int digits = static_cast<int>(std::to_string(total_).size());
    // \r returns to the line start; \033[K erases what a longer previous line left.
    out_ << fmt::format("\r{:>{}}/{} [{}] - ETA: {}{}\033[K", seen, digits, total_, bar, format_seconds(eta),
                        format_logs(logs))
         << std::flush;
}

void ProgressBar::finish(const Logs& logs, double seconds, std::size_t steps) {
    if (verbose_ == 0) return;
    const std::string elapsed = format_seconds(seconds);
    const std::string per_step = format_step_time(seconds / static_cast<double>(std::max<std::size_t>(steps, 1)));
    if (live_) {
        out_ << fmt::format("\r{}/{} [{}] - {} {}{}\033[K\n", total_, total_, std::string(bar_width, '='), elapsed, per_step,
                            format_logs(logs));
    } else {
        out_ << fmt::format("{}/{} - {} - {}{}\n", total_, total_, elapsed, per_step, format_logs(logs));
    }
    out_ << std::flush;
}

}  // namespace xg
