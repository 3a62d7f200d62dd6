#include "xgrad/io/npz.hpp"

#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include <doctest/doctest.h>

#include "same_bits.hpp"
#include "scratch_dir.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/io/npy.hpp"

using namespace xg;
using namespace std::string_literals;
using xg::test::ScratchDir;

namespace {

// np.savez(f, w=np.arange(6, dtype=np.float32).reshape(2, 3), **{"layer/b": np.array([1.5, -2], np.float32)},
//          s=np.float32(3.25)) with numpy 1.24: every local header carries a zip64 extra field.
const std::string numpy_npz =
    "\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x4f\xe9\x00\x2a\x98\x00\x00\x00\x98\x00\x00\x00\x05\x00\x14\x00\x77\x2e"
    "\x6e\x70\x79\x01\x00\x10\x00\x98\x00\x00\x00\x00\x00\x00\x00\x98\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76"
    "\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72"
    "\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x32\x2c\x20\x33\x29\x2c\x20\x7d\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\x00\x00\x00\x00\x80\x3f\x00"
    "\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\xd6\x43\x4b"
    "\x05\x88\x00\x00\x00\x88\x00\x00\x00\x0b\x00\x14\x00\x6c\x61\x79\x65\x72\x2f\x62\x2e\x6e\x70\x79\x01\x00\x10\x00\x88\x00\x00\x00"
    "\x00\x00\x00\x00\x88\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20"
    "\x27\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27"
    "\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x32\x2c\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\xc0\x3f\x00\x00\x00\xc0\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00"
    "\x21\x00\x92\xf5\x1d\xec\x84\x00\x00\x00\x84\x00\x00\x00\x05\x00\x14\x00\x73\x2e\x6e\x70\x79\x01\x00\x10\x00\x84\x00\x00\x00\x00"
    "\x00\x00\x00\x84\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27"
    "\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73"
    "\x68\x61\x70\x65\x27\x3a\x20\x28\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\x50\x40\x50\x4b\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x4f"
    "\xe9\x00\x2a\x98\x00\x00\x00\x98\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x77\x2e\x6e"
    "\x70\x79\x50\x4b\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\xd6\x43\x4b\x05\x88\x00\x00\x00\x88\x00\x00\x00\x0b\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\xcf\x00\x00\x00\x6c\x61\x79\x65\x72\x2f\x62\x2e\x6e\x70\x79\x50\x4b\x01\x02\x14"
    "\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x92\xf5\x1d\xec\x84\x00\x00\x00\x84\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x80\x01\x94\x01\x00\x00\x73\x2e\x6e\x70\x79\x50\x4b\x05\x06\x00\x00\x00\x00\x03\x00\x03\x00\x9f\x00\x00\x00\x4f\x02"
    "\x00\x00\x00\x00"
    ""s;

Array counting(const Shape& shape, float start = 0.0f) {
    Array a = uninitialized(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = start + static_cast<float>(i);
    return a;
}

using xg::test::same_bits;

std::uint64_t get(const std::string& s, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return v;
}

void put(std::string& s, std::size_t at, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void append(std::string& s, std::uint64_t v, int n) {
    s.append(static_cast<std::size_t>(n), '\0');
    put(s, s.size() - static_cast<std::size_t>(n), v, n);
}

// Offsets inside an archive without comment: the end record and the central directory entries.
std::size_t end_record(const std::string& zip) { return zip.size() - 22; }
std::size_t central_entry(const std::string& zip, int index) {
    std::size_t at = get(zip, end_record(zip) + 16, 4);
    for (int i = 0; i < index; ++i) at += 46 + get(zip, at + 28, 2) + get(zip, at + 30, 2) + get(zip, at + 32, 2);
    return at;
}

// A member for build_zip, with directory fields that a test may falsify.
struct RawMember {
    std::string name = {}, data = {};
    std::uint16_t method = 0, flags = 0;
    bool zip64 = false;  // sizes and offset in a zip64 extra field of the directory entry
    std::optional<std::uint64_t> size = {}, offset = {};
};

// A ZIP archive written field by field, optionally ending with zip64 end records.
std::string build_zip(const std::vector<RawMember>& members, bool zip64_end = false,
                      std::optional<std::uint64_t> zip64_count = {}) {
    std::string out, directory;
    for (const auto& m : members) {
        const std::uint64_t offset = out.size();
        const std::uint32_t crc = crc32_of(m.data);
        append(out, 0x04034b50, 4);
        append(out, 20, 2);
        append(out, m.flags, 2);
        append(out, m.method, 2);
        append(out, 0, 4);
        append(out, crc, 4);
        append(out, m.data.size(), 4);
        append(out, m.data.size(), 4);
        append(out, m.name.size(), 2);
        append(out, 0, 2);
        out += m.name + m.data;

        const std::uint64_t size = m.size.value_or(m.data.size());
        append(directory, 0x02014b50, 4);
        append(directory, 20, 2);
        append(directory, m.zip64 ? 45 : 20, 2);
        append(directory, m.flags, 2);
        append(directory, m.method, 2);
        append(directory, 0, 4);
        append(directory, crc, 4);
        append(directory, m.zip64 ? 0xffffffff : size, 4);
        append(directory, m.zip64 ? 0xffffffff : size, 4);
        append(directory, m.name.size(), 2);
        append(directory, m.zip64 ? 28 : 0, 2);
        append(directory, 0, 2);  // comment length
        append(directory, 0, 2);  // disk
        append(directory, 0, 2);  // internal attributes
        append(directory, 0, 4);  // external attributes
        append(directory, m.zip64 ? 0xffffffff : m.offset.value_or(offset), 4);
        directory += m.name;
        if (m.zip64) {
            append(directory, 1, 2);
            append(directory, 24, 2);
            append(directory, size, 8);
            append(directory, size, 8);
            append(directory, m.offset.value_or(offset), 8);
        }
    }
    const std::uint64_t directory_offset = out.size();
    out += directory;
    const std::uint64_t count = zip64_count.value_or(members.size());
    if (zip64_end) {
        const std::uint64_t record = out.size();
        append(out, 0x06064b50, 4);
        append(out, 44, 8);
        append(out, 45, 2);
        append(out, 45, 2);
        append(out, 0, 8);
        append(out, count, 8);
        append(out, count, 8);
        append(out, directory.size(), 8);
        append(out, directory_offset, 8);
        append(out, 0x07064b50, 4);
        append(out, 0, 4);
        append(out, record, 8);
        append(out, 1, 4);
    }
    append(out, 0x06054b50, 4);
    append(out, 0, 4);
    append(out, zip64_end ? 0xffff : count, 2);
    append(out, zip64_end ? 0xffff : count, 2);
    append(out, zip64_end ? 0xffffffff : directory.size(), 4);
    append(out, zip64_end ? 0xffffffff : directory_offset, 4);
    append(out, 0, 2);
    return out;
}

// read_npz_contents of `bytes` as a file; the IoError message, or "" if it read fine.
std::string read_error(const ScratchDir& dir, const std::string& bytes, NpzMembers which = NpzMembers::all) {
    const std::string path = dir / "probe.npz";
    test::write_bytes(path, bytes);
    try {
        (void)read_npz_contents(path, which);
        return "";
    } catch (const IoError& e) {
        return e.what();
    }
}

struct Sample {
    Array w = counting({2, 3});
    Array b = counting({4}, 10.0f);
    Array s = scalar_array(-1.25f);
    Array empty = counting({0, 3});
    std::vector<NpzArray> arrays() const { return {{"dense_1/kernel", &w}, {"dense_1/bias", &b}, {"s", &s}, {"e", &empty}}; }
};

}  // namespace

TEST_CASE("write_npz and read_npz_contents round trip arrays of every rank and text members") {
    ScratchDir dir;
    const Sample sample;
    const std::string path = dir / "a.npz";
    write_npz(path, sample.arrays(), {{"notes.txt", "hello"}, {"empty.json", ""}});
    const NpzContents back = read_npz_contents(path);
    REQUIRE(back.arrays.size() == 4);
    CHECK(same_bits(back.arrays.at("dense_1/kernel"), sample.w));
    CHECK(same_bits(back.arrays.at("dense_1/bias"), sample.b));
    CHECK(same_bits(back.arrays.at("s"), sample.s));
    CHECK(back.arrays.at("s").dimension() == 0);
    CHECK(back.arrays.at("e").shape() == Shape{0, 3});
    CHECK(back.files == std::map<std::string, std::string>{{"notes.txt", "hello"}, {"empty.json", ""}});

    const auto arrays = read_npz(path);
    CHECK(arrays.size() == 4);
    CHECK(arrays.count("dense_1/kernel") == 1);

    const NpzContents files = read_npz_contents(path, NpzMembers::files_only);
    CHECK(files.arrays.empty());
    CHECK(files.files.size() == 2);

    write_npz(dir / "none.npz", {});
    CHECK(read_npz_contents(dir / "none.npz").arrays.empty());
}

TEST_CASE("write_npz lays the archive out as np.savez does: stored .npy members, then the directory") {
    ScratchDir dir;
    const Sample sample;
    write_npz(dir / "a.npz", sample.arrays(), {{"m.json", "{}"}});
    const std::string zip = test::read_bytes(dir / "a.npz");
    REQUIRE(zip.size() > 30);
    CHECK(zip.substr(0, 4) == "PK\x03\x04");
    CHECK(get(zip, 8, 2) == 0);  // stored
    CHECK(get(zip, 26, 2) == std::string("dense_1/kernel.npy").size());
    CHECK(zip.substr(30, 18) == "dense_1/kernel.npy");
    CHECK(zip.substr(48, 128 + 24) == encode_npy(sample.w));
    CHECK(get(zip, 14, 4) == crc32_of(encode_npy(sample.w)));
    CHECK(get(zip, end_record(zip) + 10, 2) == 5);
    // Equal inputs give equal bytes (fixed timestamps).
    write_npz(dir / "b.npz", sample.arrays(), {{"m.json", "{}"}});
    CHECK(test::read_bytes(dir / "b.npz") == zip);
    CHECK(dir.entries() == std::vector<std::string>{"a.npz", "b.npz"});
}

TEST_CASE("read_npz reads an archive written by numpy's np.savez") {
    ScratchDir dir;
    test::write_bytes(dir / "numpy.npz", numpy_npz);
    const auto arrays = read_npz(dir / "numpy.npz");
    REQUIRE(arrays.size() == 3);
    CHECK(same_bits(arrays.at("w"), counting({2, 3})));
    CHECK(same_bits(arrays.at("layer/b"), Array{1.5f, -2.0f}));
    CHECK(same_bits(arrays.at("s"), scalar_array(3.25f)));
}

TEST_CASE("read_npz accepts zip64 directory entries and end records") {
    ScratchDir dir;
    const std::string npy = encode_npy(counting({3}));
    RawMember a{.name = "a.npy", .data = npy, .zip64 = true};
    RawMember b{.name = "b.npy", .data = npy};
    CHECK(read_error(dir, build_zip({a, b}, true)) == "");
    const auto arrays = read_npz(dir / "probe.npz");
    CHECK(same_bits(arrays.at("a"), counting({3})));
    CHECK(same_bits(arrays.at("b"), counting({3})));
}

TEST_CASE("read_npz accepts an archive comment but not bytes after the end record") {
    ScratchDir dir;
    std::string zip = build_zip({{.name = "a.npy", .data = encode_npy(counting({2}))}});
    std::string commented = zip;
    put(commented, end_record(zip) + 20, 7, 2);
    commented += "comment";
    CHECK(read_error(dir, commented) == "");
    CHECK(read_error(dir, zip + "trailing garbage").find("no ZIP end-of-central-directory record") != std::string::npos);
}

TEST_CASE("read_npz detects a corrupted byte by its CRC32") {
    ScratchDir dir;
    const Sample sample;
    write_npz(dir / "a.npz", sample.arrays(), {{"m.json", "{\"a\": 1}"}});
    const std::string zip = test::read_bytes(dir / "a.npz");
    // Data of the first array starts after its 30-byte local header, its name and the 128-byte .npy header.
    std::string bad = zip;
    bad[30 + 18 + 128 + 5] ^= 0x01;
    const std::string message = read_error(dir, bad);
    CHECK(message.rfind("read_npz: " + (dir / "probe.npz") + ": ", 0) == 0);
    CHECK(message.find("member 'dense_1/kernel.npy' is corrupt (CRC32") != std::string::npos);
    // The same corruption in an array goes unread when only the other members are asked for.
    CHECK(read_error(dir, bad, NpzMembers::files_only) == "");
    // A flipped byte in a text member is caught too.
    std::string bad_text = zip;
    bad_text[central_entry(zip, 0) - 3] ^= 0x20;
    CHECK(read_error(dir, bad_text, NpzMembers::files_only).find("member 'm.json' is corrupt") != std::string::npos);
}

TEST_CASE("read_npz throws IoError for every truncation of a small archive") {
    ScratchDir dir;
    const Array w = counting({2, 2});
    const Array s = scalar_array(1.0f);
    write_npz(dir / "a.npz", {{"w", &w}, {"s", &s}}, {{"m.json", "{}"}});
    const std::string zip = test::read_bytes(dir / "a.npz");
    for (std::size_t n = 0; n < zip.size(); ++n) {
        CAPTURE(n);
        CHECK(read_error(dir, zip.substr(0, n)) != "");
    }
    CHECK(read_error(dir, zip) == "");
}

TEST_CASE("read_npz throws IoError for random garbage and survives random corruption") {
    ScratchDir dir;
    std::mt19937 rng(99);
    for (int trial = 0; trial < 300; ++trial) {
        std::string junk(rng() % 2000, '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        // Half of them end in a plausible end record so that parsing gets further.
        if (trial % 2 == 0 && junk.size() >= 22) {
            put(junk, junk.size() - 22, 0x06054b50, 4);
            put(junk, junk.size() - 2, 0, 2);
        }
        CHECK(read_error(dir, junk) != "");
    }
    const Sample sample;
    write_npz(dir / "a.npz", sample.arrays(), {{"m.json", "{}"}});
    const std::string zip = test::read_bytes(dir / "a.npz");
    const std::size_t directory = central_entry(zip, 0);
    int survived = 0;
    for (int trial = 0; trial < 800; ++trial) {
        std::string bad = zip;
        // Aim most changes at the directory and end record, where sizes and offsets live.
        const std::size_t from = trial % 3 == 0 ? 0 : directory;
        for (int f = 0; f < 1 + trial % 3; ++f) bad[from + rng() % (bad.size() - from)] = static_cast<char>(rng());
        if (read_error(dir, bad) == "") ++survived;  // e.g. a changed attribute field
    }
    CHECK(survived < 800);
}

TEST_CASE("read_npz rejects sizes and offsets that point outside the file before allocating") {
    ScratchDir dir;
    const std::string npy = encode_npy(counting({4}));
    const std::string zip = build_zip({{.name = "a.npy", .data = npy}, {.name = "b.npy", .data = npy}});
    CHECK(read_error(dir, zip) == "");

    std::string huge_directory = zip;
    put(huge_directory, end_record(zip) + 12, 0xfffffff0, 4);
    CHECK(read_error(dir, huge_directory).find("central directory (offset") != std::string::npos);

    std::string far_directory = zip;
    put(far_directory, end_record(zip) + 16, 0xfffffff0, 4);
    CHECK(read_error(dir, far_directory).find("lies outside the archive") != std::string::npos);

    std::string many = zip;
    put(many, end_record(zip) + 8, 0xfff0, 2);
    put(many, end_record(zip) + 10, 0xfff0, 2);
    CHECK(read_error(dir, many).find("too few for 65520 members") != std::string::npos);

    RawMember big{.name = "a.npy", .data = npy, .size = 0xfffffff0};
    CHECK(read_error(dir, build_zip({big})).find("runs past the data area") != std::string::npos);

    RawMember big64{.name = "a.npy", .data = npy, .zip64 = true, .size = std::uint64_t{1} << 62};
    CHECK(read_error(dir, build_zip({big64})).find("runs past the data area") != std::string::npos);

    RawMember far{.name = "a.npy", .data = npy, .offset = 0x7ffffff0};
    CHECK(read_error(dir, build_zip({far})).find("outside the data area") != std::string::npos);

    RawMember far64{.name = "a.npy", .data = npy, .zip64 = true, .offset = ~std::uint64_t{0} - 10};
    CHECK(read_error(dir, build_zip({far64})).find("outside the data area") != std::string::npos);

    RawMember a{.name = "a.npy", .data = npy};
    CHECK(read_error(dir, build_zip({a}, true, std::uint64_t{1} << 40)).find("lists 1099511627776 members; expected at most 65535") !=
          std::string::npos);
    CHECK(read_error(dir, build_zip({a}, true, 70000)).find("expected at most 65535") != std::string::npos);
}

TEST_CASE("read_npz rejects overlapping, duplicated, compressed and encrypted members") {
    ScratchDir dir;
    const std::string npy = encode_npy(counting({4}));
    // a's directory size reaches into b's local header: both would read the same bytes.
    RawMember a{.name = "a.npy", .data = npy, .size = npy.size() + 10};
    RawMember b{.name = "b.npy", .data = npy};
    CHECK(read_error(dir, build_zip({a, b})).find("members 'a.npy' and 'b.npy' overlap") != std::string::npos);

    std::string twice = build_zip({{.name = "a.npy", .data = npy}, {.name = "b.npy", .data = npy}});
    twice[central_entry(twice, 1) + 46] = 'a';
    CHECK(read_error(dir, twice).find("member 'a.npy' appears twice") != std::string::npos);

    std::string renamed = build_zip({{.name = "a.npy", .data = npy}});
    renamed[central_entry(renamed, 0) + 46] = 'z';
    CHECK(read_error(dir, renamed).find("different name in its local header") != std::string::npos);

    CHECK(read_error(dir, build_zip({{.name = "a.npy", .data = npy, .method = 8}})).find("compressed (method 8)") !=
          std::string::npos);
    CHECK(read_error(dir, build_zip({{.name = "a.npy", .data = npy, .flags = 1}})).find("encrypted") != std::string::npos);

    // A member that is no float32 array.
    std::string f8 = npy;
    f8.replace(f8.find("<f4"), 3, "<f8");
    const std::string message = read_error(dir, build_zip({{.name = "x.npy", .data = f8}}));
    CHECK(message.find("member 'x.npy': .npy array has dtype '<f8'") != std::string::npos);
}

TEST_CASE("read_npz names the file when it cannot be opened or is no file") {
    ScratchDir dir;
    CHECK_THROWS_WITH_AS(read_npz(dir / "missing.npz"), doctest::Contains("missing.npz: cannot open"), IoError);
    CHECK_THROWS_WITH_AS(read_npz(dir / ""), doctest::Contains("not a regular file"), IoError);
    CHECK(read_error(dir, "").find("too short to be a ZIP archive (0 bytes)") != std::string::npos);
}

TEST_CASE("write_npz checks names before touching the file") {
    ScratchDir dir;
    const std::string path = dir / "a.npz";
    test::write_bytes(path, "previous");
    const Array a = counting({2});
    CHECK_THROWS_WITH_AS(write_npz(path, {{"x", &a}, {"x", &a}}), doctest::Contains("member 'x.npy' is given twice"), IoError);
    CHECK_THROWS_WITH_AS(write_npz(path, {{"", &a}}, {}), doctest::Contains("empty name"), IoError);
    CHECK_THROWS_WITH_AS(write_npz(path, {}, {{"", "x"}}), doctest::Contains("expected 1 to 65535 bytes"), IoError);
    CHECK_THROWS_AS(write_npz(path, {{"nul\0name"s, &a}}), IoError);
    CHECK_THROWS_AS(write_npz(path, {{std::string(70000, 'n'), &a}}), IoError);
    CHECK_THROWS_WITH_AS(write_npz(path, {{"x", nullptr}}), doctest::Contains("is null"), IoError);
    CHECK_THROWS_WITH_AS(write_npz(path, {}, {{"y.npy", "text"}}), doctest::Contains("ends in .npy"), IoError);
    CHECK_THROWS_WITH_AS(write_npz(path, {}, std::vector<NpzFile>(65536, {"f", ""})),
                         doctest::Contains("65536 members; expected at most 65535"), IoError);
    CHECK(test::read_bytes(path) == "previous");
    CHECK(dir.entries() == std::vector<std::string>{"a.npz"});
}

TEST_CASE("write_npz into a missing folder or past a full disk throws IoError and keeps the previous file") {
    ScratchDir dir;
    const Array small = counting({3});
    CHECK_THROWS_WITH_AS(write_npz(dir / "no-such-folder/a.npz", {{"w", &small}}),
                         doctest::Contains(("write_npz: " + (dir / "no-such-folder/a.npz") + ": cannot create a file in folder").c_str()),
                         IoError);
    CHECK(dir.entries().empty());

    const std::string path = dir / "a.npz";
    write_npz(path, {{"w", &small}});
    const std::string previous = test::read_bytes(path);
    const Array large = counting({100, 100});
    {
        test::FileSizeLimit limit(20000);
        CHECK_THROWS_WITH_AS(write_npz(path, {{"w", &large}}), doctest::Contains("writing failed"), IoError);
    }
    CHECK(test::read_bytes(path) == previous);
    CHECK(dir.entries() == std::vector<std::string>{"a.npz"});
}
