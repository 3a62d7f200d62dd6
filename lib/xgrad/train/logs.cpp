#include "xgrad/train/logs.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

double log_value(const Logs& logs, const std::string& key) {
    std::vector<std::string> keys;
    for (auto& [k, v] : logs) {
        if (k == key) return v;
        keys.push_back(k);
    }
    throw ValueError(fmt::format("logs: no value named '{}'; expected one of: {}", key, fmt::join(keys, ", ")));
}

bool has_log(const Logs& logs, const std::string& key) {
    for (auto& [k, v] : logs) {
        if (k == key) return true;
    }
    return false;
}

}  // namespace xg
