#include "xgrad/io/npy.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <xtensor/xmanipulation.hpp>
#include <zlib.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// Data is written straight from memory; a big-endian host would need a byte-swapping copy.
static_assert(std::endian::native == std::endian::little, "xgrad io assumes a little-endian host");
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559, "xgrad io assumes IEEE float32");
static_assert(Array::static_layout == xt::layout_type::row_major, "xgrad io assumes row-major arrays");

constexpr std::string_view magic = "\x93NUMPY";
constexpr std::size_t align = 64;              // numpy's ARRAY_ALIGN
constexpr std::size_t growth_digits = 21;      // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr std::size_t max_header_size = 65535; // numpy itself refuses more than 10000 by default
constexpr std::size_t max_rank = 64;

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return v;
}

// Python's repr of a tuple of ints: "()", "(5,)", "(2, 3)".
std::string python_tuple(const Shape& shape) {
    if (shape.size() == 1) return fmt::format("({},)", shape[0]);
    return fmt::format("({})", fmt::join(shape, ", "));
}

// The dict literal of an .npy header, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
// Accepts exactly what a Python literal of that form would mean, and nothing else.
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string& context) : s_(text), context_(context) {}

    struct Result {
        std::string descr;
        bool fortran_order = false;
        Shape shape;
    };

    Result parse() {
        Result r;
        bool has_descr = false, has_order = false, has_shape = false;
        skip_space();
        expect('{');
        skip_space();
        while (!eat('}')) {
            const std::string key = parse_string();
            skip_space();
            expect(':');
            skip_space();
            if (key == "descr" && !has_descr) {
                r.descr = parse_string();
                has_descr = true;
            } else if (key == "fortran_order" && !has_order) {
                r.fortran_order = parse_bool();
                has_order = true;
            } else if (key == "shape" && !has_shape) {
                r.shape = parse_shape();
                has_shape = true;
            } else {
                fail(fmt::format("key '{}' is unknown or repeated", key));
            }
            skip_space();
            if (eat(',')) {
                skip_space();
            } else if (peek() != '}') {
                fail("',' or '}' missing after a value");
            }
        }
        // numpy pads with spaces and ends with '\n'.
        skip_space();
        if (i_ != s_.size()) fail("text after the closing '}'");
        if (!has_descr || !has_order || !has_shape) fail("'descr', 'fortran_order' or 'shape' missing");
        return r;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw IoError(fmt::format("{}: .npy header is malformed ({} at byte {}); expected a dict with 'descr', "
                                  "'fortran_order' and 'shape' as numpy writes it",
                                  context_, what, i_));
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool eat(char c) {
        if (peek() != c || i_ >= s_.size()) return false;
        ++i_;
        return true;
    }
    void expect(char c) {
        if (!eat(c)) fail(fmt::format("'{}' missing", c));
    }
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    std::string parse_string() {
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail("string missing");
        ++i_;
        const std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] != quote) {
            if (s_[i_] == '\\' || s_[i_] == '\n') fail("escape or newline in a string");
            ++i_;
        }
        if (i_ >= s_.size()) fail("unterminated string");
        return std::string(s_.substr(start, i_++ - start));
    }
    bool parse_bool() {
        if (s_.substr(i_, 4) == "True") {
            i_ += 4;
            return true;
        }
        if (s_.substr(i_, 5) == "False") {
            i_ += 5;
            return false;
        }
        fail("True or False missing");
    }
    std::size_t parse_extent() {
        if (peek() < '0' || peek() > '9') fail("non-negative integer missing in shape");
        std::size_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            const auto d = static_cast<std::size_t>(peek() - '0');
            if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) fail("shape extent too large");
            v = v * 10 + d;
            ++i_;
        }
        return v;
    }
    Shape parse_shape() {
        expect('(');
        skip_space();
        Shape shape;
        bool comma = false;
        while (!eat(')')) {
            if (shape.size() == max_rank) fail(fmt::format("more than {} axes", max_rank));
            shape.push_back(parse_extent());
            skip_space();
            comma = eat(',');
            skip_space();
            if (!comma && peek() != ')') fail("',' or ')' missing in shape");
        }
        // "(5)" is the integer 5 in Python, not a tuple.
        if (shape.size() == 1 && !comma) fail("shape is not a tuple");
        return shape;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    const std::string& context_;
};

}  // namespace

std::string npy_header(const Shape& shape) {
    // Mirrors numpy.lib.format._write_array_header: sorted keys, a trailing ", }", room for the
    // first axis to grow to 21 digits, then spaces and '\n' so the data starts 64-byte aligned.
    std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", python_tuple(shape));
    if (!shape.empty()) {
        const std::size_t digits = fmt::formatted_size("{}", shape[0]);
        if (digits < growth_digits) dict.append(growth_digits - digits, ' ');
    }
    const std::size_t text = dict.size() + 1;  // with the final '\n'
    for (int major = 1; major <= 2; ++major) {
        const std::size_t prefix = magic.size() + 2 + (major == 1 ? 2 : 4);
        const std::size_t pad = align - (prefix + text) % align;
        if (major == 1 && text + pad > 0xffff) continue;  // too long for a 2-byte length: numpy writes 2.0
        std::string out(magic);
        out += static_cast<char>(major);
        out += '\0';
        put_le(out, text + pad, major == 1 ? 2 : 4);
        out += dict;
        out.append(pad, ' ');
        out += '\n';
        return out;
    }
    throw IoError(fmt::format("npy_header: shape {} makes a header too long to write", format_shape(shape)));
}

std::string_view npy_data(const Array& a) {
    return {reinterpret_cast<const char*>(a.data()), a.size() * sizeof(float)};
}

std::string encode_npy(const Array& a) {
    std::string out = npy_header(a.shape());
    out += npy_data(a);
    return out;
}

Array decode_npy(std::string_view bytes, const std::string& context) {
    if (bytes.size() < magic.size() + 4 || bytes.substr(0, magic.size()) != magic) {
        throw IoError(fmt::format("{}: not an .npy array (no \\x93NUMPY magic in {} bytes); expected numpy's .npy format",
                                  context, bytes.size()));
    }
    const int major = static_cast<unsigned char>(bytes[6]);
    const int minor = static_cast<unsigned char>(bytes[7]);
    if (major < 1 || major > 3 || minor != 0) {
        throw IoError(fmt::format("{}: .npy format version {}.{}; expected 1.0, 2.0 or 3.0", context, major, minor));
    }
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    const std::size_t start = magic.size() + 2 + length_bytes;
    if (bytes.size() < start) {
        throw IoError(fmt::format("{}: .npy header is cut off ({} bytes); expected at least {}", context, bytes.size(), start));
    }
    const std::uint64_t header_size = get_le(bytes, 8, static_cast<int>(length_bytes));
    if (header_size > max_header_size || header_size > bytes.size() - start) {
        throw IoError(fmt::format("{}: .npy header claims {} bytes, {} are present; expected at most {}",
                                  context, header_size, bytes.size() - start, max_header_size));
    }
    const auto header = HeaderParser(bytes.substr(start, header_size), context).parse();
    if (header.descr != "<f4") {
        throw IoError(fmt::format("{}: .npy array has dtype '{}'; expected '<f4' (little-endian float32)",
                                  context, header.descr));
    }
    // Shape extents are each below 2^64 but their product may not be. The extents other than 0 are bounded
    // too: an empty (0, 2^32, 2^32) array holds no data, but its strides would wrap around.
    std::size_t nonzero = 1;
    bool empty = false;
    for (auto extent : header.shape) {
        if (extent == 0) {
            empty = true;
        } else if (nonzero > max_array_elements / extent) {
            throw IoError(fmt::format("{}: .npy shape {} holds too many elements to address; expected the extents "
                                      "other than 0 to multiply to at most {}",
                                      context, format_shape(header.shape), max_array_elements));
        } else {
            nonzero *= extent;
        }
    }
    const std::size_t count = empty ? 0 : nonzero;
    const std::size_t data_size = bytes.size() - start - header_size;
    if (count * sizeof(float) != data_size) {
        throw IoError(fmt::format("{}: .npy data has {} bytes; expected {} for shape {} of float32", context, data_size,
                                  count * sizeof(float), format_shape(header.shape)));
    }
    if (!header.fortran_order || header.shape.size() < 2) {
        Array out = uninitialized(header.shape);
        if (data_size > 0) std::memcpy(out.data(), bytes.data() + start + header_size, data_size);
        return out;
    }
    // Fortran order (np.save of a transposed array): the bytes are the C-order array of the
    // reversed shape, so reading that and reversing the axes gives the array.
    Array reversed = uninitialized(Shape(header.shape.rbegin(), header.shape.rend()));
    if (data_size > 0) std::memcpy(reversed.data(), bytes.data() + start + header_size, data_size);
    return Array(xt::transpose(reversed));
}

std::uint32_t crc32_of(std::string_view bytes, std::uint32_t crc) {
    // zlib's length is a uInt; feed it in chunks so arrays over 4 GiB work too.
    constexpr std::size_t chunk = std::size_t{1} << 30;
    uLong c = crc;
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        const std::size_t n = std::min(chunk, bytes.size() - at);
        c = ::crc32(c, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
    }
    return static_cast<std::uint32_t>(c);
}

std::uint32_t npy_data_crc32(const Array& a) { return crc32_of(npy_data(a)); }

}  // namespace xg
