#pragma once
// Keras-style progress output for one epoch:
//   terminal, verbose 1: a bar redrawn in place
//     "60000/60000 [=====>........] - ETA: 2s - loss: 0.2570 - accuracy: 0.9252"
//   otherwise (verbose 2, or verbose 1 into a file or pipe): one line when the epoch ends
//     "60000/60000 - 1.2s - 2.6ms/step - loss: 0.2570 - accuracy: 0.9252"
#include <chrono>
#include <cstddef>
#include <ostream>

#include "xgrad/train/logs.hpp"

namespace xg {

class ProgressBar {
public:
    /// `total` samples per epoch; verbose 0 prints nothing; `live` redraws a bar (a terminal).
    ProgressBar(std::ostream& out, std::size_t total, int verbose, bool live);
    /// After each batch: samples seen so far and the running logs.
    void update(std::size_t seen, const Logs& logs);
    /// At the end of the epoch: the final logs (with validation values), its seconds and steps.
    void finish(const Logs& logs, double seconds, std::size_t steps);

private:
    std::ostream& out_;
    std::size_t total_;
    int verbose_;
    bool live_;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

/// Whether `out` is std::cout or std::cerr attached to a terminal.
bool is_terminal(const std::ostream& out);
/// " - loss: 0.2570 - accuracy: 0.9252"
std::string format_logs(const Logs& logs);

}  // namespace xg
