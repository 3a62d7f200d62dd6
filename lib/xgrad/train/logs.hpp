#pragma once
// Logs: the named values of one epoch or batch ("loss", "accuracy", "val_loss"), in display order.
#include <string>
#include <utility>
#include <vector>

namespace xg {

using Logs = std::vector<std::pair<std::string, double>>;

/// The value of `key`; throws ValueError naming the keys that exist when it is missing.
double log_value(const Logs& logs, const std::string& key);
/// Whether `key` is present.
bool has_log(const Logs& logs, const std::string& key);

}  // namespace xg
