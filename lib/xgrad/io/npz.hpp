#pragma once
// Named float32 arrays as numpy's .npz: a ZIP archive of uncompressed "<name>.npy" members,
// as np.savez writes it, optionally with other members (text such as a JSON manifest).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xg {

/// What an .npz holds: arrays by name ("w" for member "w.npy") and the bytes of every other member by its full name.
struct NpzContents {
    /// Float32 arrays by member name without ".npy".
    std::map<std::string, Array> arrays;
    /// Other members' bytes by full member name.
    std::map<std::string, std::string> files;
};

/// An array to store, by name (without ".npy") and reference; it must outlive the write.
using NpzArray = std::pair<std::string, const Array*>;
/// A non-array member to store: its full name (not ending in ".npy") and its bytes.
using NpzFile = std::pair<std::string, std::string>;

/// Which members read_npz_contents decodes: all, or only the non-array ones (arrays are then skipped unread).
enum class NpzMembers { all, files_only };

/// Most members an archive may hold (the ZIP limit without zip64); more is an error on writing and reading.
inline constexpr std::size_t npz_max_members = 65535;

/// Writes `arrays` as stored "<name>.npy" members, then `files`, to `path` atomically (temporary file, fsync,
/// rename); throws IoError starting with "<context>: <path>" if anything fails, leaving any previous file intact.
void write_npz(const std::string& path, const std::vector<NpzArray>& arrays, const std::vector<NpzFile>& files = {},
               const std::string& context = "write_npz");

/// Reads an .npz, checking every size and offset against the file, each member's CRC32 and each .npy header;
/// throws IoError starting with "<context>: <path>" naming what is wrong.
NpzContents read_npz_contents(const std::string& path, NpzMembers which = NpzMembers::all,
                              const std::string& context = "read_npz");

/// The float32 arrays of an .npz by name; non-array members (such as a weights manifest) are checked and left out.
std::map<std::string, Array> read_npz(const std::string& path);

}  // namespace xg
