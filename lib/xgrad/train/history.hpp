#pragma once
// History: what fit() returns, one entry per epoch for every logged value.
#include <map>
#include <string>
#include <vector>

#include "xgrad/train/logs.hpp"

namespace xg {

struct History {
    /// Values per key, one per completed epoch ("loss", "accuracy", "val_loss", ...).
    std::map<std::string, std::vector<double>> values;
    /// Wall-clock seconds of each epoch's training (without validation).
    std::vector<double> epoch_seconds;

    /// Appends one epoch.
    void add(const Logs& logs, double seconds);
    std::size_t epochs() const { return epoch_seconds.size(); }
    /// The series for `key`; throws ValueError when there is none.
    const std::vector<double>& operator[](const std::string& key) const;
};

}  // namespace xg
