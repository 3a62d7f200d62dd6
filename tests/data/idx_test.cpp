// IDX reading and writing: round trips through raw and gzip files, and every way a file can be wrong.
#include "xgrad/data/idx.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "io_error.hpp"
#include "xgrad/core/error.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

// A fresh folder under the system temp directory, removed with everything in it at scope exit.
struct IdxTempDir {
    fs::path path;
    IdxTempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("xgrad_idx_test_" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~IdxTempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

// gzip-wrapped deflate of `raw`, as `gzip` would write it.
Bytes gzip(const Bytes& raw) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&z, static_cast<uLong>(raw.size())) + 64);
    z.next_in = const_cast<Bytef*>(raw.data());
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

void put_be32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

// An unsigned-byte IDX header for `dims`, followed by `data`.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& data, std::uint8_t type = 0x08) {
    Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims) put_be32(b, d);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes counting(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return b;
}

using xg::test::io_error;

// Limits this process's address space to what it uses now plus `headroom` for one scope, so that
// allocating what a lying header promises fails loudly instead of succeeding lazily.
struct AddressSpaceCap {
    rlimit saved{};
    bool active = false;
    explicit AddressSpaceCap(std::size_t headroom) {
        std::ifstream statm("/proc/self/statm");
        std::size_t pages = 0;
        if (!(statm >> pages) || getrlimit(RLIMIT_AS, &saved) != 0) return;
        const std::size_t used = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        if (used > (std::size_t{16} << 30)) return;  // sanitizers reserve huge shadow maps; a cap would break them
        rlimit cap = saved;
        cap.rlim_cur = used + headroom;
        if (saved.rlim_cur != RLIM_INFINITY && cap.rlim_cur > saved.rlim_cur) return;
        active = setrlimit(RLIMIT_AS, &cap) == 0;
    }
    ~AddressSpaceCap() {
        if (active) setrlimit(RLIMIT_AS, &saved);
    }
    AddressSpaceCap(const AddressSpaceCap&) = delete;
    AddressSpaceCap& operator=(const AddressSpaceCap&) = delete;
};

using xg::test::contains;

// Writes `bytes` to `name` and checks read_idx fails with a message naming the file and containing `what`.
void check_bad_file(const IdxTempDir& dir, const std::string& name, const Bytes& bytes, const std::string& what) {
    const std::string path = dir.file(name);
    write_bytes(path, bytes);
    const std::string message = io_error([&] { (void)xg::read_idx(path); });
    INFO("message: " << message);
    CHECK(contains(message, "read_idx: " + path + ": "));
    CHECK(contains(message, what));
}

}  // namespace

TEST_CASE("read_idx reads raw and gzip labels of rank 1") {
    IdxTempDir dir;
    const Bytes labels{3, 1, 4, 1, 5, 9, 2, 6};
    write_bytes(dir.file("labels-idx1-ubyte"), idx_bytes({8}, labels));
    write_bytes(dir.file("labels-idx1-ubyte.gz"), gzip(idx_bytes({8}, labels)));
    for (const char* name : {"labels-idx1-ubyte", "labels-idx1-ubyte.gz"}) {
        INFO(name);
        const xg::ByteArray a = xg::read_idx(dir.file(name));
        REQUIRE(a.shape() == xg::ByteArray::shape_type{8});
        CHECK(Bytes(a.begin(), a.end()) == labels);
    }
}

TEST_CASE("read_idx reads raw and gzip images of rank 3, whatever the file is called") {
    IdxTempDir dir;
    const Bytes pixels = counting(5 * 4 * 3);
    const Bytes raw = idx_bytes({5, 4, 3}, pixels);
    write_bytes(dir.file("images.idx"), raw);
    write_bytes(dir.file("images.idx.gz"), gzip(raw));
    // Compression is detected from the content, not the name.
    write_bytes(dir.file("gzip-named.idx"), gzip(raw));
    write_bytes(dir.file("raw-named.gz"), raw);
    for (const char* name : {"images.idx", "images.idx.gz", "gzip-named.idx", "raw-named.gz"}) {
        INFO(name);
        const xg::ByteArray a = xg::read_idx(dir.file(name));
        REQUIRE(a.shape() == xg::ByteArray::shape_type{5, 4, 3});
        CHECK(Bytes(a.begin(), a.end()) == pixels);
        CHECK(a(2, 1, 0) == pixels[2 * 12 + 1 * 3 + 0]);
    }
}

TEST_CASE("read_idx accepts ranks 2 and 4 and concatenated gzip members") {
    IdxTempDir dir;
    const Bytes four = idx_bytes({2, 3, 2, 2}, counting(24));
    write_bytes(dir.file("four"), four);
    CHECK(xg::read_idx(dir.file("four")).shape() == xg::ByteArray::shape_type{2, 3, 2, 2});

    // `cat a.gz b.gz` is a valid gzip file holding a's bytes then b's.
    const Bytes two = idx_bytes({3, 5}, counting(15));
    Bytes members = gzip(Bytes(two.begin(), two.begin() + 10));
    const Bytes second = gzip(Bytes(two.begin() + 10, two.end()));
    members.insert(members.end(), second.begin(), second.end());
    write_bytes(dir.file("two.gz"), members);
    const xg::ByteArray a = xg::read_idx(dir.file("two.gz"));
    REQUIRE(a.shape() == xg::ByteArray::shape_type{3, 5});
    CHECK(Bytes(a.begin(), a.end()) == counting(15));
}

TEST_CASE("write_idx round-trips raw and gzip, and rejects shapes IDX cannot hold") {
    IdxTempDir dir;
    xg::ByteArray images = xg::ByteArray::from_shape({6, 7, 5});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<std::uint8_t>(i % 251);
    xg::ByteArray labels = xg::ByteArray::from_shape({6});
    for (std::size_t i = 0; i < labels.size(); ++i) labels.data()[i] = static_cast<std::uint8_t>(i);

    for (bool gz : {false, true}) {
        INFO("gzip: " << gz);
        const std::string images_path = dir.file(gz ? "i.gz" : "i");
        const std::string labels_path = dir.file(gz ? "l.gz" : "l");
        xg::write_idx(images_path, images, gz);
        xg::write_idx(labels_path, labels, gz);
        CHECK(xg::read_idx(images_path) == images);
        CHECK(xg::read_idx(labels_path) == labels);
        std::ifstream in(images_path, std::ios::binary);
        const int first = in.get(), second = in.get();
        if (gz) {
            CHECK(first == 0x1f);
            CHECK(second == 0x8b);
        } else {
            CHECK(first == 0);
            CHECK(second == 0);
            CHECK(fs::file_size(images_path) == 4 + 3 * 4 + images.size());
        }
    }

    CHECK_THROWS_AS(xg::write_idx(dir.file("scalar"), xg::ByteArray::from_shape({}), false), xg::ShapeError);
    CHECK_THROWS_AS(xg::write_idx(dir.file("rank5"), xg::ByteArray::from_shape({1, 1, 1, 1, 1}), false), xg::ShapeError);
    CHECK_THROWS_AS(xg::write_idx(dir.file("empty"), xg::ByteArray::from_shape({0, 28}), true), xg::ShapeError);
    const std::string unwritable = dir.file("no-such-folder/x.gz");
    const std::string message = io_error([&] { xg::write_idx(unwritable, labels, true); });
    CHECK(contains(message, unwritable));
}

TEST_CASE("parse_idx parses raw and gzip buffers and names the source in errors") {
    const Bytes raw = idx_bytes({2, 2}, {1, 2, 3, 4});
    CHECK(xg::parse_idx(raw, "buffer") == xg::ByteArray{{1, 2}, {3, 4}});
    CHECK(xg::parse_idx(gzip(raw), "buffer") == xg::ByteArray{{1, 2}, {3, 4}});

    const Bytes short_data(raw.begin(), raw.end() - 1);
    const std::string message = io_error([&] { (void)xg::parse_idx(short_data, "in-memory labels"); });
    CHECK(contains(message, "parse_idx: in-memory labels: truncated: header promises 4 bytes of data, file holds 3"));
    CHECK(contains(io_error([&] { (void)xg::parse_idx(Bytes{}, "nothing"); }), "parse_idx: nothing: file is empty"));
    CHECK(contains(io_error([&] { (void)xg::parse_idx(Bytes{0x1f, 0x8b, 8, 0}, "stub"); }), "truncated gzip stream"));
}

TEST_CASE("read_idx rejects bad headers") {
    IdxTempDir dir;
    check_bad_file(dir, "magic", Bytes{0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7}, "bad magic number (0x12340801)");
    check_bad_file(dir, "text", Bytes{'h', 'e', 'l', 'l', 'o', '\n'}, "bad magic number");
    check_bad_file(dir, "float", idx_bytes({1}, {0, 0, 0, 0}, 0x0D), "unsupported element type 0x0D (float32)");
    check_bad_file(dir, "int", idx_bytes({1}, {0, 0, 0, 0}, 0x0C), "unsupported element type 0x0C");
    check_bad_file(dir, "rank0", Bytes{0, 0, 0x08, 0}, "unsupported rank 0");
    check_bad_file(dir, "rank5", idx_bytes({1, 1, 1, 1, 1}, {9}), "unsupported rank 5");
    check_bad_file(dir, "short-magic", Bytes{0, 0, 0x08}, "truncated header: file holds 3 bytes");
    check_bad_file(dir, "short-dims", Bytes{0, 0, 0x08, 0x03, 0, 0, 0, 2, 0, 0}, "truncated header: file holds 10 bytes, a rank-3 header needs 16");
    check_bad_file(dir, "zero-extent", idx_bytes({3, 0, 28}, {}), "extent 0 on axis 1");
    check_bad_file(dir, "empty", Bytes{}, "file is empty");
    check_bad_file(dir, "empty.gz", gzip(Bytes{}), "file is empty");
}

TEST_CASE("read_idx rejects files holding more or less data than their header promises") {
    IdxTempDir dir;
    const Bytes good = idx_bytes({4, 3, 3}, counting(36));
    const Bytes truncated(good.begin(), good.end() - 5);
    Bytes trailing = good;
    trailing.push_back(0);
    trailing.push_back(0);

    check_bad_file(dir, "truncated", truncated, "truncated: header promises 36 bytes of data, file holds 31; expected a complete IDX file");
    check_bad_file(dir, "truncated.gz", gzip(truncated), "truncated: header promises 36 bytes of data, file holds 31");
    check_bad_file(dir, "trailing", trailing, "trailing bytes: header promises 36 bytes of data, file holds 38");
    check_bad_file(dir, "trailing.gz", gzip(trailing), "trailing bytes: header promises 36 bytes of data, file holds 38");
    check_bad_file(dir, "labels-no-data", idx_bytes({10}, {}), "header promises 10 bytes of data, file holds 0");
}

TEST_CASE("read_idx rejects huge headers quickly, without allocating what they promise") {
    IdxTempDir dir;
    const auto start = std::chrono::steady_clock::now();
    const AddressSpaceCap cap(std::size_t{256} << 20);
    if (!cap.active) MESSAGE("could not cap the address space: allocation sizes are not checked here");
    const Bytes overflow = idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu, 28}, {1, 2, 3});
    check_bad_file(dir, "overflow", overflow, "more than the limit of 1073741824");
    check_bad_file(dir, "overflow.gz", gzip(overflow), "more than the limit of 1073741824");
    check_bad_file(dir, "over-limit", idx_bytes({2, 1024, 1024, 1024}, {1}), "(2, 1024, 1024, 1024) promises");
    // Under the limit, but far more than a 40-byte file (or its decompressed content) can hold.
    const Bytes big = idx_bytes({0x3FFFFFFFu}, {1, 2, 3, 4});
    check_bad_file(dir, "big", big, "truncated: header promises 1073741823 bytes of data, file holds 4");
    check_bad_file(dir, "big.gz", gzip(big), "truncated: header promises 1073741823 bytes of data, file holds 4");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 5.0);
}

TEST_CASE("read_idx rejects corrupt and truncated gzip streams") {
    IdxTempDir dir;
    const Bytes good = gzip(idx_bytes({50, 20}, counting(1000)));

    // Byte 10 starts the deflate data; bits 1-2 set to 11 name the reserved block type.
    Bytes corrupt = good;
    corrupt[10] |= 0x06;
    check_bad_file(dir, "corrupt.gz", corrupt, "corrupt gzip stream (invalid block type) after 0 decompressed bytes");

    // Damage that still inflates yields garbage, caught by the IDX checks or the CRC, never returned.
    Bytes scrambled = good;
    for (std::size_t i = 12; i < scrambled.size() - 8; i += 3) scrambled[i] ^= 0x5A;
    check_bad_file(dir, "scrambled.gz", scrambled, "");

    Bytes bad_crc = good;
    bad_crc[bad_crc.size() - 6] ^= 0xFF;  // the CRC-32 in the gzip trailer
    check_bad_file(dir, "bad-crc.gz", bad_crc, "corrupt gzip stream (incorrect data check)");

    check_bad_file(dir, "half.gz", Bytes(good.begin(), good.begin() + static_cast<long>(good.size() / 2)),
                   "truncated gzip stream");
    check_bad_file(dir, "no-trailer.gz", Bytes(good.begin(), good.end() - 8), "truncated gzip stream");
    check_bad_file(dir, "magic-only.gz", Bytes{0x1f, 0x8b}, "truncated gzip stream");

    Bytes garbage_after = good;
    garbage_after.insert(garbage_after.end(), {'j', 'u', 'n', 'k'});
    check_bad_file(dir, "garbage-after.gz", garbage_after, "corrupt gzip stream");
}

TEST_CASE("read_idx names a missing file and a directory") {
    IdxTempDir dir;
    const std::string missing = dir.file("train-images-idx3-ubyte.gz");
    const std::string message = io_error([&] { (void)xg::read_idx(missing); });
    CHECK(contains(message, "read_idx: " + missing + ": cannot open"));

    const std::string folder = dir.file("a-folder");
    fs::create_directories(folder);
    CHECK(contains(io_error([&] { (void)xg::read_idx(folder); }), "read_idx: " + folder + ": is a directory"));
}
