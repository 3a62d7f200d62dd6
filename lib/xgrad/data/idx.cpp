#include "xgrad/data/idx.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {

constexpr std::size_t chunk_bytes = std::size_t{64} << 10;

// Deflate spends at least 2 bits (a 1-bit length code and a 1-bit distance code) on each
// 258-byte match, so no gzip file decompresses to more than 1032 times its own size. A header
// promising more than that cannot be honest, and is answered without allocating.
constexpr std::uint64_t max_deflate_ratio = 1032;

constexpr std::uint8_t idx_unsigned_byte = 0x08;

// Which call and which file an error belongs to: "read_idx: data/x.gz: ...".
struct Origin {
    const char* function;
    const std::string& name;
};

[[noreturn]] void fail(const Origin& origin, const std::string& what) {
    throw IoError(fmt::format("{}: {}: {}", origin.function, origin.name, what));
}

std::string errno_text(int code) {
    return std::generic_category().message(code);
}

// A sequential source of bytes. read() returns fewer than n bytes only at the end.
class ByteReader {
public:
    virtual ~ByteReader() = default;
    virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
};

class MemoryReader final : public ByteReader {
public:
    explicit MemoryReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    std::size_t read(std::uint8_t* dst, std::size_t n) override {
        const std::size_t take = std::min(n, bytes_.size() - pos_);
        std::copy_n(bytes_.data() + pos_, take, dst);
        pos_ += take;
        return take;
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads a file through a 64 KiB buffer; the first chunk is read on opening so that the
// gzip magic can be checked before choosing a decoder.
class FileReader final : public ByteReader {
public:
    explicit FileReader(const Origin& origin) : origin_(origin), buffer_(chunk_bytes) {
        errno = 0;
        file_.reset(std::fopen(origin.name.c_str(), "rb"));
        if (!file_) fail(origin_, fmt::format("cannot open ({}); expected a readable IDX file", errno_text(errno)));
        fill();
    }

    bool starts_with_gzip_magic() const { return end_ >= 2 && buffer_[0] == 0x1f && buffer_[1] == 0x8b; }

    std::size_t read(std::uint8_t* dst, std::size_t n) override {
        std::size_t done = 0;
        while (done < n) {
            if (pos_ == end_) {
                // Large reads bypass the buffer; small ones (the header) go through it.
                if (n - done >= buffer_.size()) {
                    const std::size_t got = checked_fread(dst + done, n - done);
                    done += got;
                    if (got == 0) break;
                    continue;
                }
                if (!fill()) break;
            }
            const std::size_t take = std::min(n - done, end_ - pos_);
            std::copy_n(buffer_.data() + pos_, take, dst + done);
            pos_ += take;
            done += take;
        }
        return done;
    }

private:
    bool fill() {
        pos_ = 0;
        end_ = checked_fread(buffer_.data(), buffer_.size());
        return end_ > 0;
    }

    std::size_t checked_fread(std::uint8_t* dst, std::size_t n) {
        errno = 0;
        const std::size_t got = std::fread(dst, 1, n, file_.get());
        if (got < n && std::ferror(file_.get())) {
            fail(origin_, fmt::format("read error ({}); expected a readable IDX file", errno_text(errno)));
        }
        return got;
    }

    const Origin& origin_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    std::vector<std::uint8_t> buffer_;
    std::size_t pos_ = 0, end_ = 0;
};

// Decompresses a gzip stream (one or more concatenated members) from another reader,
// chunk by chunk, checking each member's CRC and length.
class GzipReader final : public ByteReader {
public:
    GzipReader(ByteReader& compressed, const Origin& origin)
        : compressed_(compressed), origin_(origin), input_(chunk_bytes) {
        // 15 + 16: the largest window, gzip wrapper only.
        if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail(origin_, "zlib could not start inflating (out of memory?)");
    }
    ~GzipReader() override { inflateEnd(&stream_); }
    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;

    std::size_t read(std::uint8_t* dst, std::size_t n) override {
        std::size_t done = 0;
        while (done < n && !finished_) {
            if (stream_.avail_in == 0 && !refill()) {
                if (member_ended_) {
                    finished_ = true;
                    break;
                }
                fail(origin_, fmt::format("truncated gzip stream: compressed data ends after {} decompressed bytes; "
                                          "expected a complete .gz file",
                                          produced_ + done));
            }
            if (member_ended_) {
                // More input after a finished member: it must be another gzip member.
                inflateReset(&stream_);
                member_ended_ = false;
            }
            // zlib counts in uInt; hand it at most 1 GiB of output per call.
            const std::size_t want = std::min<std::size_t>(n - done, std::size_t{1} << 30);
            stream_.next_out = dst + done;
            stream_.avail_out = static_cast<uInt>(want);
            const int rc = inflate(&stream_, Z_NO_FLUSH);
            done += want - stream_.avail_out;
            if (rc == Z_STREAM_END) {
                member_ended_ = true;
            } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
                fail(origin_, fmt::format("corrupt gzip stream ({}) after {} decompressed bytes; expected a valid .gz file",
                                          stream_.msg ? stream_.msg : "invalid data", produced_ + done));
            } else if (rc == Z_MEM_ERROR) {
                fail(origin_, "zlib ran out of memory while inflating");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fail(origin_, fmt::format("zlib inflate failed (code {})", rc));
            }
        }
        produced_ += done;
        return done;
    }

private:
    bool refill() {
        const std::size_t got = compressed_.read(input_.data(), input_.size());
        stream_.next_in = input_.data();
        stream_.avail_in = static_cast<uInt>(got);
        return got > 0;
    }

    ByteReader& compressed_;
    const Origin& origin_;
    std::vector<std::uint8_t> input_;
    z_stream stream_{};
    bool member_ended_ = false, finished_ = false;
    std::uint64_t produced_ = 0;
};

std::uint32_t read_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 24));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

const char* idx_type_name(std::uint8_t type) {
    switch (type) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "int16";
        case 0x0C: return "int32";
        case 0x0D: return "float32";
        case 0x0E: return "float64";
        default: return "unknown type";
    }
}

std::size_t read_full(ByteReader& in, std::uint8_t* dst, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const std::size_t got = in.read(dst + done, n - done);
        if (got == 0) break;
        done += got;
    }
    return done;
}

// Reads and discards the rest of the input, stopping once more than `limit` bytes were seen.
std::uint64_t count_rest(ByteReader& in, std::uint64_t limit) {
    std::vector<std::uint8_t> scratch(chunk_bytes);
    std::uint64_t seen = 0;
    while (seen <= limit) {
        const std::size_t got = in.read(scratch.data(), scratch.size());
        if (got == 0) break;
        seen += got;
    }
    return seen;
}

[[noreturn]] void fail_truncated(const Origin& origin, std::uint64_t promised, std::uint64_t held) {
    fail(origin, fmt::format("truncated: header promises {} bytes of data, file holds {}; expected a complete IDX file",
                             promised, held));
}

[[noreturn]] void fail_trailing(const Origin& origin, std::uint64_t promised, std::uint64_t held, bool more) {
    fail(origin, fmt::format("trailing bytes: header promises {} bytes of data, file holds {}{}; expected the file to "
                             "end where its data does",
                             promised, more ? "more than " : "", held));
}

// Parses one IDX stream. `max_held` bounds how many bytes the input can possibly yield
// (exactly, if `exact`), so that a header promising more is rejected before allocating.
ByteArray parse_stream(ByteReader& in, std::uint64_t max_held, bool exact, const Origin& origin) {
    std::array<std::uint8_t, 4 + 4 * 4> header{};
    const std::size_t magic_got = read_full(in, header.data(), 4);
    if (magic_got == 0) fail(origin, "file is empty (0 bytes); expected an IDX file");
    if (magic_got < 4) {
        fail(origin, fmt::format("truncated header: file holds {} bytes; expected at least the 4-byte magic number",
                                 magic_got));
    }
    const std::uint32_t magic = read_be32(header.data());
    if (header[0] != 0 || header[1] != 0) {
        fail(origin, fmt::format("bad magic number (0x{:08X}); expected 0x000008NN with NN the rank, e.g. 0x00000803 "
                                 "for images or 0x00000801 for labels",
                                 magic));
    }
    if (header[2] != idx_unsigned_byte) {
        fail(origin, fmt::format("unsupported element type 0x{:02X} ({}) in magic 0x{:08X}; expected 0x08 (unsigned byte)",
                                 header[2], idx_type_name(header[2]), magic));
    }
    const std::size_t rank = header[3];
    if (rank < 1 || rank > 4) {
        fail(origin, fmt::format("unsupported rank {} in magic 0x{:08X}; expected a rank from 1 to 4", rank, magic));
    }
    const std::size_t header_bytes = 4 + 4 * rank;
    const std::size_t dims_got = read_full(in, header.data() + 4, 4 * rank);
    if (dims_got < 4 * rank) {
        fail(origin, fmt::format("truncated header: file holds {} bytes, a rank-{} header needs {}; expected a complete "
                                 "IDX file",
                                 4 + dims_got, rank, header_bytes));
    }

    ByteArray::shape_type shape(rank);
    std::uint64_t promised = 1;
    double promised_approx = 1.0;  // for the message when the exact product overflows
    bool over_limit = false;
    for (std::size_t axis = 0; axis < rank; ++axis) {
        const std::uint32_t extent = read_be32(header.data() + 4 + 4 * axis);
        shape[axis] = extent;
        promised_approx *= extent;
        if (extent != 0 && !over_limit) {
            // promised * extent > limit  <=>  promised > limit / extent (integer division).
            if (promised > max_idx_bytes / extent) over_limit = true;
            else promised *= extent;
        }
    }
    for (std::size_t axis = 0; axis < rank; ++axis) {
        if (shape[axis] == 0) {
            fail(origin, fmt::format("header shape {} has extent 0 on axis {}; expected every extent >= 1",
                                     format_shape(shape), axis));
        }
    }
    if (over_limit) {
        fail(origin, fmt::format("header shape {} promises {:.4g} bytes of data, more than the limit of {}; expected at "
                                 "most {} bytes",
                                 format_shape(shape), promised_approx, max_idx_bytes, max_idx_bytes));
    }

    if (header_bytes + promised > max_held) {
        // The input cannot hold that much: say how much it does hold, without allocating.
        fail_truncated(origin, promised, count_rest(in, promised));
    }
    if (exact && header_bytes + promised < max_held) {
        fail_trailing(origin, promised, max_held - header_bytes, false);
    }

    ByteArray out = ByteArray::from_shape(shape);
    const std::size_t got = read_full(in, out.data(), promised);
    if (got < promised) fail_truncated(origin, promised, got);
    std::uint8_t extra = 0;
    if (read_full(in, &extra, 1) == 1) {
        const std::uint64_t rest = 1 + count_rest(in, max_idx_bytes);
        fail_trailing(origin, promised, promised + rest, rest > max_idx_bytes);
    }
    return out;
}

std::uint64_t gzip_bound(std::uint64_t compressed_bytes) {
    const std::uint64_t cap = std::numeric_limits<std::uint64_t>::max() / max_deflate_ratio;
    return compressed_bytes > cap ? std::numeric_limits<std::uint64_t>::max() : compressed_bytes * max_deflate_ratio;
}

}  // namespace

ByteArray read_idx(const std::string& path) {
    const Origin origin{"read_idx", path};
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        fail(origin, fmt::format("cannot open ({}); expected an existing IDX file",
                                 ec ? ec.message() : errno_text(ENOENT)));
    }
    if (std::filesystem::is_directory(status)) fail(origin, "is a directory; expected an IDX file");
    if (!std::filesystem::is_regular_file(status)) fail(origin, "is not a regular file; expected an IDX file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) fail(origin, fmt::format("cannot read its size ({}); expected a readable IDX file", ec.message()));

    FileReader file(origin);
    if (file.starts_with_gzip_magic()) {
        GzipReader gzip(file, origin);
        return parse_stream(gzip, gzip_bound(size), false, origin);
    }
    return parse_stream(file, size, true, origin);
}

ByteArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& source_name) {
    const Origin origin{"parse_idx", source_name};
    MemoryReader memory(bytes);
    if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        GzipReader gzip(memory, origin);
        return parse_stream(gzip, gzip_bound(bytes.size()), false, origin);
    }
    return parse_stream(memory, bytes.size(), true, origin);
}

void write_idx(const std::string& path, const ByteArray& array, bool gzip) {
    const auto& shape = array.shape();
    if (shape.empty() || shape.size() > 4) {
        throw ShapeError(fmt::format("write_idx: array has shape {} (rank {}); expected a rank from 1 to 4",
                                     format_shape(shape), shape.size()));
    }
    std::vector<std::uint8_t> header{0, 0, idx_unsigned_byte, static_cast<std::uint8_t>(shape.size())};
    for (const std::size_t extent : shape) {
        if (extent == 0 || extent > std::numeric_limits<std::uint32_t>::max()) {
            throw ShapeError(fmt::format("write_idx: array has shape {}; expected every extent from 1 to 4294967295",
                                         format_shape(shape)));
        }
        put_be32(header, static_cast<std::uint32_t>(extent));
    }

    const Origin origin{"write_idx", path};
    // A failed write leaves no partial file behind that a later read could mistake for data.
    auto fail_and_remove = [&](const std::string& what) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
        fail(origin, what);
    };
    const std::uint8_t* data = array.data();
    const std::size_t size = array.size();

    if (gzip) {
        errno = 0;
        gzFile out = gzopen(path.c_str(), "wb");
        if (!out) fail(origin, fmt::format("cannot open for writing ({}); expected a writable path", errno_text(errno)));
        auto write = [&](const std::uint8_t* p, std::size_t n) {
            while (n > 0) {
                const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n, std::size_t{1} << 30));
                if (gzwrite(out, p, step) != static_cast<int>(step)) {
                    int code = 0;
                    const std::string what = gzerror(out, &code);
                    gzclose(out);
                    fail_and_remove(fmt::format("write failed ({}); expected a writable path", what));
                }
                p += step;
                n -= step;
            }
        };
        write(header.data(), header.size());
        write(data, size);
        if (gzclose(out) != Z_OK) fail_and_remove("closing the gzip stream failed; expected a writable path");
        return;
    }

    errno = 0;
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(path.c_str(), "wb"));
    if (!out) fail(origin, fmt::format("cannot open for writing ({}); expected a writable path", errno_text(errno)));
    if (std::fwrite(header.data(), 1, header.size(), out.get()) != header.size() ||
        std::fwrite(data, 1, size, out.get()) != size) {
        const int code = errno;
        out.reset();
        fail_and_remove(fmt::format("write failed ({}); expected a writable path", errno_text(code)));
    }
    if (std::fclose(out.release()) != 0) {
        fail_and_remove(fmt::format("closing the file failed ({}); expected a writable path", errno_text(errno)));
    }
}

}  // namespace xg
