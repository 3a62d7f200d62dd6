#include "xgrad/train/csv_logger.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/io/atomic_file.hpp"
#include "xgrad/train/model.hpp"

namespace xg {
namespace {

bool is_writer(Model& model) {
    // Data-parallel, every process holds the same logs; one writer keeps the file consistent.
    const DataParallel* parallel = model.data_parallel();
    return !parallel || parallel->is_root();
}

// A field quoted as Python's csv module does when it holds the separator, a quote or a line break.
std::string csv_field(const std::string& text, char separator) {
    if (text.find_first_of(std::string{separator, '"', '\n', '\r'}) == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// The fields of one line (quotes undone).
std::vector<std::string> split_fields(const std::string& line, char separator) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == separator) {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    return fields;
}

}  // namespace

CsvLogger::CsvLogger(std::string path, CsvLoggerOptions options) : path_(std::move(path)), options_(options) {
    if (path_.empty()) throw ValueError("CsvLogger: path is empty; expected a file path");
    if (options_.separator == '"' || options_.separator == '\n' || options_.separator == '\r') {
        throw ValueError(fmt::format("CsvLogger: separator {:?}; expected a character other than a quote or line break",
                                     options_.separator));
    }
}

void CsvLogger::on_train_begin(Model& model) {
    first_epoch_ = true;
    columns_.clear();
    rows_.clear();
    row_epochs_.clear();
    if (!is_writer(model)) return;
    if (std::filesystem::is_directory(path_)) {
        throw IoError(fmt::format("CsvLogger: '{}' is a folder; expected a file path", path_));
    }
    if (options_.append && std::filesystem::exists(path_)) {
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw IoError(fmt::format("CsvLogger: cannot read '{}' to continue it; expected a readable file", path_));
        std::string line;
        std::size_t number = 0;
        while (std::getline(in, line)) {
            ++number;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty()) continue;
            const std::vector<std::string> fields = split_fields(line, options_.separator);
            if (columns_.empty()) {
                if (fields[0] != "epoch") {
                    throw IoError(fmt::format("CsvLogger: '{}' starts with '{}'; expected a CSV log whose first column is "
                                              "'epoch'", path_, line.substr(0, 40)));
                }
                columns_ = fields;
                continue;
            }
            std::size_t epoch = 0;
            const auto [end, error] = std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), epoch);
            if (error != std::errc() || end != fields[0].data() + fields[0].size() || fields.size() != columns_.size()) {
                throw IoError(fmt::format("CsvLogger: line {} of '{}' is not a row of {} fields starting with an epoch "
                                          "('{}'); expected the log this logger wrote", number, path_, columns_.size(),
                                          line.substr(0, 40)));
            }
            row_epochs_.push_back(epoch);
            rows_.push_back(line);
        }
    }
    // Fails before the first epoch, not after it: the folder must take a new file.
    AtomicFile probe(path_, fmt::format("CsvLogger: {}", path_));
}

void CsvLogger::on_epoch_begin(Model&, std::size_t epoch) {
    if (!first_epoch_) return;
    first_epoch_ = false;
    // A run killed after writing epoch e but before its checkpoint trains e again.
    std::size_t keep = 0;
    while (keep < row_epochs_.size() && row_epochs_[keep] < epoch) ++keep;
    row_epochs_.resize(keep);
    rows_.resize(keep);
}

void CsvLogger::on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : logs) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    keys.insert(keys.begin(), "epoch");
    if (columns_.empty()) columns_ = keys;
    if (keys != columns_) {
        throw ValueError(fmt::format("CsvLogger: epoch {} logs ({}); expected the columns of '{}' ({})", epoch,
                                     fmt::join(keys, ", "), path_, fmt::join(columns_, ", ")));
    }
    std::string row = std::to_string(epoch);
    for (std::size_t i = 1; i < columns_.size(); ++i) {
        const auto it = std::find_if(logs.begin(), logs.end(), [&](const auto& entry) { return entry.first == columns_[i]; });
        // The shortest text that reads back as the same double, as Python's repr.
        row += options_.separator + fmt::format("{}", it->second);
    }
    while (!row_epochs_.empty() && row_epochs_.back() >= epoch) {
        row_epochs_.pop_back();
        rows_.pop_back();
    }
    row_epochs_.push_back(epoch);
    rows_.push_back(std::move(row));
    if (is_writer(model)) write();
}

void CsvLogger::write() const {
    std::string text;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) text += options_.separator;
        text += csv_field(columns_[i], options_.separator);
    }
    text += '\n';
    for (const std::string& row : rows_) text += row + '\n';
    AtomicFile file(path_, fmt::format("CsvLogger: {}", path_));
    file.write(text);
    file.commit();
}

}  // namespace xg
