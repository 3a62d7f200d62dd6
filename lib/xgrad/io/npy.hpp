#pragma once
// One float32 array as numpy's .npy bytes: a header (magic, version, a Python dict literal
// describing dtype, order and shape, padded to 64 bytes) followed by the raw data.
#include <cstdint>
#include <string>
#include <string_view>

#include "xgrad/core/array.hpp"

namespace xg {

/// The .npy v1.0 header numpy 1.24 writes for a float32 C-order array of `shape`, byte for byte.
std::string npy_header(const Shape& shape);

/// npy_header(a.shape()) followed by a's elements as little-endian float32 in C order.
std::string encode_npy(const Array& a);

/// The array held in .npy bytes (versions 1.0 to 3.0); throws IoError starting with `context` unless
/// they hold a little-endian float32 C-order array whose data is exactly as long as its shape says.
Array decode_npy(std::string_view bytes, const std::string& context = "decode_npy");

/// The data of `a` as the bytes that follow an .npy header (little-endian float32, C order), without copying.
std::string_view npy_data(const Array& a);

/// CRC32 (zlib's) of npy_data(a), the checksum the weights manifest records per parameter.
std::uint32_t npy_data_crc32(const Array& a);

/// zlib's CRC32 of `bytes`, continuing from `crc` (start from 0).
std::uint32_t crc32_of(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace xg
