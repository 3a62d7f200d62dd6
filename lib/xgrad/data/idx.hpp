#pragma once
// IDX files, the container MNIST ships in: a 4-byte magic (0, 0, type, rank), one
// big-endian uint32 extent per axis, then the elements in row-major order. Only the
// unsigned-byte type (0x08) is supported; files may be raw or gzip-compressed.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <xtensor/xarray.hpp>

namespace xg {

/// Dense row-major array of unsigned bytes of any rank (images, labels).
using ByteArray = xt::xarray<std::uint8_t>;

/// Most element bytes one IDX file may hold (1 GiB); larger headers are rejected before allocating.
inline constexpr std::size_t max_idx_bytes = std::size_t{1} << 30;

/// Reads the IDX file at `path` (raw, or gzip detected by its magic 1f 8b) into an array of rank 1..4
/// with the header's extents; throws IoError naming the file if it is missing, corrupt or not exactly
/// as long as its header promises.
ByteArray read_idx(const std::string& path);

/// As read_idx, for an IDX file (raw or gzip) already in memory; `source_name` names it in errors.
ByteArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& source_name);

/// Writes `array` (rank 1..4, every extent in 1..2^32-1) as an unsigned-byte IDX file, gzip-compressed if
/// `gzip`; throws ShapeError for an array IDX cannot hold and IoError if the file cannot be written.
void write_idx(const std::string& path, const ByteArray& array, bool gzip);

}  // namespace xg
