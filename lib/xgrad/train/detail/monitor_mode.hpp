#pragma once
// The direction a monitoring callback (EarlyStopping, ReduceLROnPlateau) wants its log value to go.
#include <string>

namespace xg::detail {

/// Whether `monitor` improves by rising: mode "max", or "auto" for accuracy-like keys (accuracies,
/// the cosine similarity, precision, recall and AUC); falling for "min" and the other keys.
/// Another mode is a ValueError naming `who`.
bool monitor_rises(const std::string& monitor, const std::string& mode, const char* who);

}  // namespace xg::detail
