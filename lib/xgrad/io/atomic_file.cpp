#include "xgrad/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

std::string folder_of(const std::string& path) {
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

// A name no other writer picks: random bits plus a per-process counter.
std::string temp_name_beside(const std::string& path) {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto p = std::filesystem::path(path);
    const auto name = fmt::format(".{}.{:012x}{:04x}.tmp", p.filename().string(), rng() & 0xffffffffffffULL,
                                  counter++ & 0xffffU);
    return (p.parent_path() / name).string();
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string context) : path_(std::move(path)), context_(std::move(context)) {
    if (path_.empty() || std::filesystem::path(path_).filename().empty()) {
        throw IoError(fmt::format("{}: path '{}' names no file; expected a file path", context_, path_));
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
        temp_path_ = temp_name_beside(path_);
        // 0666 before the umask, like any newly created file.
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ >= 0) return;
        if (errno != EEXIST) break;
    }
    const int error = errno;
    temp_path_.clear();
    throw IoError(fmt::format("{}: cannot create a file in folder '{}' ({}); expected an existing, writable folder",
                              context_, folder_of(path_), std::strerror(error)));
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::fail(const std::string& what, int error) const {
    throw IoError(fmt::format("{}: {} ({}); the previous file, if any, is unchanged", context_, what, std::strerror(error)));
}

void AtomicFile::write(std::string_view bytes) {
    if (fd_ < 0) throw StateError(fmt::format("{}: write after commit", context_));
    while (!bytes.empty()) {
        const ::ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("writing failed", errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
        size_ += static_cast<std::uint64_t>(n);
    }
}

void AtomicFile::commit() {
    if (fd_ < 0) throw StateError(fmt::format("{}: commit called twice", context_));
    if (::fsync(fd_) != 0) fail("syncing to disk failed", errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("closing failed", errno);
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail("replacing the file failed", errno);
    committed_ = true;
    // The rename itself is durable only once the folder is synced. Some file systems cannot
    // sync a folder (EINVAL); the data is then as safe as they allow.
    const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        const int rc = ::fsync(dir);
        const int error = errno;
        ::close(dir);
        if (rc != 0 && error != EINVAL && error != EROFS) {
            throw IoError(fmt::format("{}: the file was written but syncing its folder failed ({})", context_,
                                      std::strerror(error)));
        }
    }
}

}  // namespace xg
