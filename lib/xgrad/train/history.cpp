#include "xgrad/train/history.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

void History::add(const Logs& logs, double seconds) {
    for (auto& [key, value] : logs) values[key].push_back(value);
    epoch_seconds.push_back(seconds);
}

const std::vector<double>& History::operator[](const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end()) throw ValueError(fmt::format("History: no series named '{}'", key));
    return it->second;
}

}  // namespace xg
