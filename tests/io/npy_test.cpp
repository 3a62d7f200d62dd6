#include "xgrad/io/npy.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <doctest/doctest.h>

#include "same_bits.hpp"
#include "xgrad/core/error.hpp"

using namespace xg;
using namespace std::string_literals;

namespace {

using xg::test::same_bits;

// i / 2 - 3 at flat position i: negative, zero and fractional values.
Array ramp(const Shape& shape) {
    Array a = uninitialized(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(i) * 0.5f - 3.0f;
    return a;
}

// A v1.0 header around `dict`, padded with spaces and '\n' to `total` bytes, as numpy lays it out.
std::string v1_header(const std::string& dict, std::size_t total) {
    const std::size_t length = total - 10;
    std::string out = "\x93NUMPY\x01\x00"s;
    out += static_cast<char>(length & 0xff);
    out += static_cast<char>(length >> 8);
    out += dict;
    out.append(total - out.size() - 1, ' ');
    return out + "\n";
}

// A v1.0 .npy file: `dict` padded to the next multiple of 64 bytes, then `data`.
std::string with_header(const std::string& dict, const std::string& data) {
    return v1_header(dict, (10 + dict.size() + 1 + 63) / 64 * 64) + data;
}

std::string floats(std::initializer_list<float> values) {
    std::string out(values.size() * sizeof(float), '\0');
    std::memcpy(out.data(), std::data(values), out.size());
    return out;
}

}  // namespace

TEST_CASE("npy_header matches numpy's bytes for a (2, 3) float32 array") {
    // np.save of np.zeros((2, 3), np.float32) with numpy 1.24: 128 bytes, ending in '\n'.
    const std::string prefix = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"s;
    const std::string expected = prefix + std::string(128 - prefix.size() - 1, ' ') + "\n";
    REQUIRE(expected.size() == 128);
    CHECK(npy_header({2, 3}) == expected);
}

TEST_CASE("npy_header matches numpy for 0-d, 1-d and long shapes") {
    const std::string head = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
    CHECK(npy_header({}) == v1_header(head + "(), }", 128));
    CHECK(npy_header({5}) == v1_header(head + "(5,), }", 128));
    CHECK(npy_header({784, 512}) == v1_header(head + "(784, 512), }", 128));
    // Lengths numpy 1.24 writes: 192 when the dict outgrows 128 bytes, and a full extra 64 bytes
    // of padding when the text would end exactly on a 64-byte boundary.
    const std::size_t t = 1000000000000;
    CHECK(npy_header({t, t, t, t, t, t}) ==
          v1_header(head + "(1000000000000, 1000000000000, 1000000000000, 1000000000000, 1000000000000, "
                           "1000000000000), }",
                    192));
    CHECK(npy_header({t, t, t, t, t, t, t, t}).size() == 256);
    CHECK(npy_header({t, t, t, t, t, t, t, t}).substr(8, 2) == "\xf6\x00"s);
}

TEST_CASE("encode_npy is the header followed by the raw little-endian floats") {
    const Array a = ramp({2, 3});
    const std::string bytes = encode_npy(a);
    REQUIRE(bytes.size() == 128 + 6 * 4);
    CHECK(bytes.substr(0, 128) == npy_header({2, 3}));
    CHECK(bytes.substr(128) == floats({-3.0f, -2.5f, -2.0f, -1.5f, -1.0f, -0.5f}));
    CHECK(bytes.substr(128) == std::string(npy_data(a)));
}

TEST_CASE("encode_npy and decode_npy round trip 0-d, 1-d, 2-d, 4-d and empty arrays bit for bit") {
    std::vector<Array> arrays = {scalar_array(2.5f), ramp({7}), ramp({3, 4}), ramp({2, 1, 3, 2}),
                                 ramp({0, 3}), ramp({0})};
    Array specials = uninitialized({6});
    specials(0) = std::numeric_limits<float>::quiet_NaN();
    specials(1) = std::numeric_limits<float>::infinity();
    specials(2) = -std::numeric_limits<float>::infinity();
    specials(3) = -0.0f;
    specials(4) = std::numeric_limits<float>::denorm_min();
    specials(5) = std::numeric_limits<float>::max();
    arrays.push_back(specials);
    for (const auto& a : arrays) {
        CAPTURE(format_shape(a.shape()));
        const Array back = decode_npy(encode_npy(a));
        CHECK(back.dimension() == a.dimension());
        CHECK(same_bits(back, a));
    }
}

TEST_CASE("decode_npy reads headers numpy also accepts: v2.0, other key order, double quotes, old padding") {
    const std::string data = floats({1.0f, 2.0f});
    const Array expected = Array{1.0f, 2.0f};

    std::string v2 = "\x93NUMPY\x02\x00"s;
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const std::size_t length = 128 - 12;
    v2 += std::string{static_cast<char>(length), '\0', '\0', '\0'};
    v2 += dict + std::string(length - dict.size() - 1, ' ') + "\n";
    CHECK(same_bits(decode_npy(v2 + data), expected));

    CHECK(same_bits(decode_npy(with_header("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", data)), expected));
    CHECK(same_bits(decode_npy(with_header("{'descr':'<f4','fortran_order':False,'shape':(2,)}", data)), expected));
    // Before numpy 1.9 headers were padded to 16 bytes only.
    CHECK(same_bits(decode_npy(v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 80) + data),
                    expected));
    CHECK(decode_npy(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1), }", data)).shape() ==
          Shape{1, 2, 1});
}

TEST_CASE("decode_npy rejects anything but a float32 array of matching size, naming the problem") {
    const std::string two = floats({1.0f, 2.0f});
    struct Case {
        std::string bytes, message;
    };
    const std::vector<Case> cases = {
        {"", "no \\x93NUMPY magic"},
        {"PK\x03\x04 not npy at all"s, "no \\x93NUMPY magic"},
        {"\x93NUMPY\x04\x00\x10\x00"s + std::string(16, ' '), "version 4.0"},
        {"\x93NUMPY\x01\x00\xff\xff{}"s, "header claims 65535 bytes"},
        {"\x93NUMPY\x02\x00\xff\xff\xff\x7f{}"s, "header claims 2147483647 bytes"},
        {with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", floats({0.0f, 0.0f})), "dtype '<f8'"},
        {with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two), "dtype '>f4'"},
        {with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", two), "dtype '|O'"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", two), "has 8 bytes; expected 12"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", two), "has 8 bytes; expected 4"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", two), "not a tuple"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two), "non-negative integer"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", two),
         "extent too large"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", two),
         "too many elements"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", two),
         "too many elements"},
        // Found by fuzzing: no data, but extents whose product no array can address (an escaping ShapeError before).
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", ""),
         "too many elements"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 3037000500, 0), }", ""),
         "too many elements"},
        {with_header("{'descr': '<f4', 'fortran_order': False, }", two), "'shape' missing"},
        {with_header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two),
         "unknown or repeated"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", two), "unknown or repeated"},
        {with_header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", two), "True or False"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", two), "text after"},
        {with_header("{'descr': '<f4 'fortran_order': False, 'shape': (2,), }", two), "malformed"},
        {with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", two), "malformed"},
        {with_header("{'descr': 'a\\'b', 'fortran_order': False, 'shape': (2,), }", two), "escape"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.bytes.substr(0, 100));
        try {
            (void)decode_npy(c.bytes, "decode_npy: test.npy");
            FAIL("decode_npy accepted bad input");
        } catch (const IoError& e) {
            const std::string message = e.what();
            CAPTURE(message);
            CHECK(message.rfind("decode_npy: test.npy: ", 0) == 0);
            CHECK(message.find(c.message) != std::string::npos);
        }
    }
}

TEST_CASE("decode_npy caps the rank") {
    std::string shape = "(";
    for (int i = 0; i < 65; ++i) shape += "1, ";
    shape += ")";
    CHECK_THROWS_WITH_AS(decode_npy(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }",
                                                floats({1.0f}))),
                         doctest::Contains("more than 64 axes"), IoError);
}

TEST_CASE("decode_npy throws IoError for every truncation of a valid file") {
    const std::string bytes = encode_npy(ramp({3, 2}));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK_THROWS_AS(decode_npy(std::string_view(bytes).substr(0, n)), IoError);
    }
    CHECK_THROWS_AS(decode_npy(bytes + "x"), IoError);
}

TEST_CASE("decode_npy survives random garbage and random corruption") {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int trial = 0; trial < 2000; ++trial) {
        std::string junk(static_cast<std::size_t>(rng() % 300), '\0');
        for (auto& c : junk) c = static_cast<char>(byte(rng));
        if (trial % 2 == 0 && junk.size() >= 8) junk.replace(0, 8, "\x93NUMPY\x01\x00"s);
        CHECK_THROWS_AS(decode_npy(junk), IoError);
    }
    const std::string valid = encode_npy(ramp({4, 5}));
    int decoded = 0;
    for (int trial = 0; trial < 5000; ++trial) {
        std::string bad = valid;
        const int flips = 1 + static_cast<int>(rng() % 4);
        // Mostly hit the header, where a change matters.
        for (int f = 0; f < flips; ++f) bad[rng() % (trial % 4 == 0 ? bad.size() : 128)] = static_cast<char>(byte(rng));
        try {
            const Array a = decode_npy(bad);
            CHECK(a.size() * 4 + 10 <= bad.size());
            ++decoded;
        } catch (const IoError&) {
        }
    }
    CHECK(decoded > 0);  // changes in padding or data still decode
}

TEST_CASE("crc32_of is zlib's CRC32 and npy_data_crc32 covers the data after the header") {
    CHECK(crc32_of("123456789") == 0xcbf43926u);
    CHECK(crc32_of("6789", crc32_of("12345")) == 0xcbf43926u);
    CHECK(crc32_of("") == 0u);
    const Array a = ramp({3, 4});
    CHECK(npy_data_crc32(a) == crc32_of(encode_npy(a).substr(128)));
    CHECK(npy_data_crc32(scalar_array(1.0f)) == crc32_of(floats({1.0f})));
}

TEST_CASE("arrays numpy saved in Fortran order load with their values in place") {
    // np.save of np.arange(6, dtype=np.float32).reshape(2, 3).T, a (3, 2) array in Fortran
    // order, and of np.arange(24, ...).reshape(2, 3, 4).transpose(2, 1, 0), written by numpy
    // 1.24 (tests/io/fixtures/fortran_npy.py prints these bytes).
    const std::string matrix =
    "\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27\x3c\x66\x34"
    "\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x54\x72\x75\x65"
    "\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x33\x2c\x20\x32\x29\x2c\x20\x7d\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40"
    "\x00\x00\x80\x40\x00\x00\xa0\x40"s;
    const std::string cube =
    "\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27\x3c\x66\x34"
    "\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x54\x72\x75\x65"
    "\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x34\x2c\x20\x33\x2c\x20\x32\x29\x2c\x20\x7d\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40"
    "\x00\x00\x80\x40\x00\x00\xa0\x40\x00\x00\xc0\x40\x00\x00\xe0\x40\x00\x00\x00\x41\x00\x00\x10\x41"
    "\x00\x00\x20\x41\x00\x00\x30\x41\x00\x00\x40\x41\x00\x00\x50\x41\x00\x00\x60\x41\x00\x00\x70\x41"
    "\x00\x00\x80\x41\x00\x00\x88\x41\x00\x00\x90\x41\x00\x00\x98\x41\x00\x00\xa0\x41\x00\x00\xa8\x41"
    "\x00\x00\xb0\x41\x00\x00\xb8\x41"s;
    const Array m = decode_npy(matrix);
    REQUIRE(m.shape() == Shape{3, 2});
    // m = [[0, 3], [1, 4], [2, 5]]
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 2; ++j) CHECK(m(i, j) == static_cast<float>(j * 3 + i));
    }
    const Array c = decode_npy(cube);
    REQUIRE(c.shape() == Shape{4, 3, 2});
    // c[i, j, k] = original[k, j, i] = k * 12 + j * 4 + i
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            for (std::size_t k = 0; k < 2; ++k) CHECK(c(i, j, k) == static_cast<float>(k * 12 + j * 4 + i));
        }
    }
}
