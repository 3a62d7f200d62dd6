#include "xgrad/io/npz.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/io/atomic_file.hpp"
#include "xgrad/io/npy.hpp"

namespace xg {
namespace {

// ZIP record signatures and sizes (PKWARE APPNOTE 4.3).
constexpr std::uint32_t local_signature = 0x04034b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint32_t zip64_end_signature = 0x06064b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::size_t local_size = 30;
constexpr std::size_t central_size = 46;
constexpr std::size_t end_size = 22;
constexpr std::size_t zip64_end_size = 56;
constexpr std::size_t zip64_locator_size = 20;
constexpr std::uint64_t max_u32 = 0xffffffff;

// Fixed fields of what we write: version 2.0, stored, made on Unix, a regular file with mode 0644, and
// the DOS epoch (1980-01-01 00:00) as timestamp, so equal weights give byte-identical files.
constexpr std::uint16_t version_needed = 20;
constexpr std::uint16_t version_made_by = (3 << 8) | 20;
constexpr std::uint16_t utf8_flag = 0x800;
constexpr std::uint16_t dos_date = (0 << 9) | (1 << 5) | 1;
constexpr std::uint32_t external_attributes = 0100644u << 16;

constexpr std::string_view npy_suffix = ".npy";

bool ends_with_npy(const std::string& name) {
    return name.size() >= npy_suffix.size() && name.compare(name.size() - npy_suffix.size(), npy_suffix.size(), npy_suffix) == 0;
}

class Bytes {
public:
    void u16(std::uint64_t v) { put(v, 2); }
    void u32(std::uint64_t v) { put(v, 4); }
    void raw(std::string_view s) { out_ += s; }
    const std::string& str() const { return out_; }

private:
    void put(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    std::string out_;
};

std::uint64_t le(std::string_view s, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return v;
}

struct WrittenMember {
    std::string name;
    std::uint32_t crc;
    std::uint32_t size;
    std::uint32_t offset;
};

// Writes one stored member whose data is the concatenation of `pieces`.
void write_member(AtomicFile& out, const std::string& name, std::initializer_list<std::string_view> pieces,
                  const std::string& where, std::vector<WrittenMember>& written) {
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
    for (auto piece : pieces) {
        size += piece.size();
        crc = crc32_of(piece, crc);
    }
    if (size >= max_u32 || out.size() >= max_u32) {
        throw IoError(fmt::format("{}: member '{}' would end past 4 GiB; expected a smaller archive (zip64 is not "
                                  "written)", where, name));
    }
    const bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    Bytes h;
    h.u32(local_signature);
    h.u16(version_needed);
    h.u16(ascii ? 0 : utf8_flag);
    h.u16(0);  // stored
    h.u16(0);  // time
    h.u16(dos_date);
    h.u32(crc);
    h.u32(size);
    h.u32(size);
    h.u16(name.size());
    h.u16(0);  // extra field length
    h.raw(name);
    written.push_back({name, crc, static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(out.size())});
    out.write(h.str());
    for (auto piece : pieces) out.write(piece);
}

void write_directory(AtomicFile& out, const std::vector<WrittenMember>& members, const std::string& where) {
    const std::uint64_t directory_offset = out.size();
    Bytes d;
    for (const auto& m : members) {
        const bool ascii =
            std::all_of(m.name.begin(), m.name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
        d.u32(central_signature);
        d.u16(version_made_by);
        d.u16(version_needed);
        d.u16(ascii ? 0 : utf8_flag);
        d.u16(0);  // stored
        d.u16(0);  // time
        d.u16(dos_date);
        d.u32(m.crc);
        d.u32(m.size);
        d.u32(m.size);
        d.u16(m.name.size());
        d.u16(0);  // extra field length
        d.u16(0);  // comment length
        d.u16(0);  // disk
        d.u16(0);  // internal attributes
        d.u32(external_attributes);
        d.u32(m.offset);
        d.raw(m.name);
    }
    const std::uint64_t directory_size = d.str().size();
    if (directory_offset + directory_size >= max_u32) {
        throw IoError(fmt::format("{}: archive would exceed 4 GiB; expected a smaller archive (zip64 is not written)", where));
    }
    d.u32(end_signature);
    d.u16(0);  // this disk
    d.u16(0);  // disk with the directory
    d.u16(members.size());
    d.u16(members.size());
    d.u32(directory_size);
    d.u32(directory_offset);
    d.u16(0);  // comment length
    out.write(d.str());
}

// Reads byte ranges of a file, each checked against the file's size before anything is allocated.
class ArchiveReader {
public:
    ArchiveReader(const std::string& path, const std::string& where) : where_(where) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw IoError(fmt::format("{}: cannot open ({})", where_, std::strerror(errno)));
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd_);
            throw IoError(fmt::format("{}: not a regular file; expected an .npz archive", where_));
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    ~ArchiveReader() { ::close(fd_); }
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    std::uint64_t size() const { return size_; }

    std::string read(std::uint64_t offset, std::uint64_t n, std::string_view what) const {
        if (offset > size_ || n > size_ - offset) {
            throw IoError(fmt::format("{}: {} at offset {} with {} bytes lies past the end of the file ({} bytes)",
                                      where_, what, offset, n, size_));
        }
        std::string out(n, '\0');
        std::size_t done = 0;
        while (done < n) {
            const ::ssize_t got = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                throw IoError(fmt::format("{}: reading {} failed ({})", where_, what,
                                          got < 0 ? std::strerror(errno) : "the file ended early"));
            }
            done += static_cast<std::size_t>(got);
        }
        return out;
    }

private:
    std::string where_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

struct Member {
    std::string name;
    std::uint32_t crc = 0;
    std::uint64_t size = 0;
    std::uint64_t header_offset = 0;  // local header
    std::uint64_t data_offset = 0;
};

struct Directory {
    std::uint64_t count = 0, size = 0, offset = 0;
    std::uint64_t end = 0;  // where the records after the directory start
};

Directory find_directory(const ArchiveReader& file, const std::string& where) {
    if (file.size() < end_size) {
        throw IoError(fmt::format("{}: too short to be a ZIP archive ({} bytes); expected an .npz archive", where, file.size()));
    }
    // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
    const std::uint64_t tail_size = std::min<std::uint64_t>(file.size(), end_size + 0xffff);
    const std::uint64_t tail_offset = file.size() - tail_size;
    const std::string tail = file.read(tail_offset, tail_size, "end of central directory");
    std::size_t pos = tail.size() - end_size + 1;
    bool found = false;
    while (pos-- > 0) {
        if (le(tail, pos, 4) == end_signature && pos + end_size + le(tail, pos + 20, 2) == tail.size()) {
            found = true;
            break;
        }
    }
    if (!found) {
        throw IoError(fmt::format("{}: no ZIP end-of-central-directory record; expected an .npz (ZIP) archive", where));
    }
    Directory dir;
    const std::uint64_t disk = le(tail, pos + 4, 2), directory_disk = le(tail, pos + 6, 2);
    const std::uint64_t disk_count = le(tail, pos + 8, 2);
    dir.count = le(tail, pos + 10, 2);
    dir.size = le(tail, pos + 12, 4);
    dir.offset = le(tail, pos + 16, 4);
    dir.end = tail_offset + pos;
    if (dir.count == 0xffff || dir.size == max_u32 || dir.offset == max_u32) {
        // zip64: a locator just before the end record points at the zip64 end record.
        if (dir.end < zip64_locator_size) {
            throw IoError(fmt::format("{}: ZIP end record asks for zip64 but no zip64 locator precedes it", where));
        }
        const std::string locator = file.read(dir.end - zip64_locator_size, zip64_locator_size, "zip64 locator");
        if (le(locator, 0, 4) != zip64_locator_signature) {
            throw IoError(fmt::format("{}: ZIP end record asks for zip64 but no zip64 locator precedes it", where));
        }
        const std::uint64_t record_offset = le(locator, 8, 8);
        if (record_offset > dir.end - zip64_locator_size ||
            dir.end - zip64_locator_size - record_offset < zip64_end_size) {
            throw IoError(fmt::format("{}: zip64 end record offset {} lies outside the file", where, record_offset));
        }
        const std::string record = file.read(record_offset, zip64_end_size, "zip64 end record");
        if (le(record, 0, 4) != zip64_end_signature) {
            throw IoError(fmt::format("{}: no zip64 end record at offset {}", where, record_offset));
        }
        if (le(record, 16, 4) != 0 || le(record, 20, 4) != 0 || le(record, 24, 8) != le(record, 32, 8)) {
            throw IoError(fmt::format("{}: ZIP archive spans several disks; expected a single file", where));
        }
        dir.count = le(record, 32, 8);
        dir.size = le(record, 40, 8);
        dir.offset = le(record, 48, 8);
        dir.end = record_offset;
    } else if (disk != 0 || directory_disk != 0 || disk_count != dir.count) {
        throw IoError(fmt::format("{}: ZIP archive spans several disks; expected a single file", where));
    }
    if (dir.count > npz_max_members) {
        throw IoError(fmt::format("{}: ZIP directory lists {} members; expected at most {}", where, dir.count,
                                  npz_max_members));
    }
    if (dir.offset > dir.end || dir.size > dir.end - dir.offset) {
        throw IoError(fmt::format("{}: ZIP central directory (offset {}, {} bytes) lies outside the archive ({} bytes "
                                  "before the end record)",
                                  where, dir.offset, dir.size, dir.end));
    }
    if (dir.count * central_size > dir.size) {
        throw IoError(fmt::format("{}: ZIP central directory has {} bytes, too few for {} members", where, dir.size,
                                  dir.count));
    }
    return dir;
}

// Values the 32-bit fields mark as 0xffffffff live in the zip64 extra field (id 1), in this order.
void read_zip64_extra(std::string_view extra, std::uint64_t& size, std::uint64_t& compressed,
                      std::uint64_t& offset, const std::string& where, const std::string& name) {
    std::size_t at = 0;
    while (at + 4 <= extra.size()) {
        const std::uint64_t id = le(extra, at, 2), length = le(extra, at + 2, 2);
        if (length > extra.size() - at - 4) break;
        if (id == 1) {
            std::size_t field = at + 4;
            const std::size_t field_end = field + length;
            for (std::uint64_t* v : {&size, &compressed, &offset}) {
                if (*v != max_u32) continue;
                if (field + 8 > field_end) break;
                *v = le(extra, field, 8);
                field += 8;
            }
            break;
        }
        at += 4 + length;
    }
    if (size == max_u32 || compressed == max_u32 || offset == max_u32) {
        throw IoError(fmt::format("{}: member '{}' lacks the zip64 sizes its directory entry asks for", where, name));
    }
}

std::vector<Member> read_directory(const ArchiveReader& file, const Directory& dir, const std::string& where) {
    const std::string d = file.read(dir.offset, dir.size, "ZIP central directory");
    std::vector<Member> members;
    std::set<std::string> names;
    std::size_t at = 0;
    for (std::uint64_t i = 0; i < dir.count; ++i) {
        if (d.size() - at < central_size || le(d, at, 4) != central_signature) {
            throw IoError(fmt::format("{}: ZIP central directory entry {} is malformed at offset {}", where, i,
                                      dir.offset + at));
        }
        const std::uint64_t flags = le(d, at + 8, 2), method = le(d, at + 10, 2);
        Member m;
        m.crc = static_cast<std::uint32_t>(le(d, at + 16, 4));
        std::uint64_t compressed = le(d, at + 20, 4);
        m.size = le(d, at + 24, 4);
        const std::size_t name_length = le(d, at + 28, 2), extra_length = le(d, at + 30, 2),
                          comment_length = le(d, at + 32, 2);
        m.header_offset = le(d, at + 42, 4);
        if (d.size() - at - central_size < name_length + extra_length + comment_length) {
            throw IoError(fmt::format("{}: ZIP central directory entry {} runs past the directory's end", where, i));
        }
        m.name = d.substr(at + central_size, name_length);
        const std::string_view extra = std::string_view(d).substr(at + central_size + name_length, extra_length);
        if (compressed == max_u32 || m.size == max_u32 || m.header_offset == max_u32) {
            read_zip64_extra(extra, m.size, compressed, m.header_offset, where, m.name);
        }
        at += central_size + name_length + extra_length + comment_length;

        if (flags & 1) throw IoError(fmt::format("{}: member '{}' is encrypted; expected a plain .npz", where, m.name));
        if (method != 0) {
            throw IoError(fmt::format("{}: member '{}' is compressed (method {}); expected stored members (method 0) "
                                      "as np.savez writes them",
                                      where, m.name, method));
        }
        if (compressed != m.size) {
            throw IoError(fmt::format("{}: stored member '{}' has {} bytes compressed but {} uncompressed; expected "
                                      "equal sizes",
                                      where, m.name, compressed, m.size));
        }
        if (!names.insert(m.name).second) {
            throw IoError(fmt::format("{}: member '{}' appears twice; expected unique names", where, m.name));
        }
        members.push_back(std::move(m));
    }
    return members;
}

// Finds where each member's data starts from its local header and checks that all data lies
// before the directory without overlapping: each byte of the file then backs at most one member,
// so reading every member allocates no more than the file's size.
void locate_data(const ArchiveReader& file, const Directory& dir, std::vector<Member>& members, const std::string& where) {
    for (auto& m : members) {
        if (m.header_offset > dir.offset || dir.offset - m.header_offset < local_size) {
            throw IoError(fmt::format("{}: member '{}' has its local header at offset {}, outside the data area "
                                      "({} bytes)",
                                      where, m.name, m.header_offset, dir.offset));
        }
        const std::string h = file.read(m.header_offset, local_size, "local header");
        if (le(h, 0, 4) != local_signature) {
            throw IoError(fmt::format("{}: member '{}' has no local header at offset {}", where, m.name, m.header_offset));
        }
        const std::uint64_t name_length = le(h, 26, 2), extra_length = le(h, 28, 2);
        m.data_offset = m.header_offset + local_size + name_length + extra_length;
        if (m.data_offset > dir.offset || m.size > dir.offset - m.data_offset) {
            throw IoError(fmt::format("{}: member '{}' ({} bytes at offset {}) runs past the data area ({} bytes)",
                                      where, m.name, m.size, m.data_offset, dir.offset));
        }
        if (file.read(m.header_offset + local_size, name_length, "local header name") != m.name) {
            throw IoError(fmt::format("{}: member '{}' has a different name in its local header", where, m.name));
        }
    }
    std::vector<const Member*> order;
    for (const auto& m : members) order.push_back(&m);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->header_offset < b->header_offset; });
    for (std::size_t i = 1; i < order.size(); ++i) {
        if (order[i]->header_offset < order[i - 1]->data_offset + order[i - 1]->size) {
            throw IoError(fmt::format("{}: members '{}' and '{}' overlap; expected separate data", where,
                                      order[i - 1]->name, order[i]->name));
        }
    }
}

}  // namespace

void write_npz(const std::string& path, const std::vector<NpzArray>& arrays, const std::vector<NpzFile>& files,
               const std::string& context) {
    const std::string where = fmt::format("{}: {}", context, path);
    if (arrays.size() + files.size() > npz_max_members) {
        throw IoError(fmt::format("{}: {} members; expected at most {}", where, arrays.size() + files.size(),
                                  npz_max_members));
    }
    // Check every name before the file is touched.
    std::set<std::string> names;
    auto check_name = [&](const std::string& name) {
        if (name.empty() || name.size() > 0xffff || name.find('\0') != std::string::npos) {
            throw IoError(fmt::format("{}: member name '{}' is empty, too long or holds a NUL byte; expected 1 to "
                                      "65535 bytes",
                                      where, name.substr(0, 80)));
        }
        if (!names.insert(name).second) {
            throw IoError(fmt::format("{}: member '{}' is given twice; expected unique names", where, name));
        }
    };
    for (const auto& [name, array] : arrays) {
        if (array == nullptr) throw IoError(fmt::format("{}: array '{}' is null; expected an array", where, name));
        if (name.empty()) throw IoError(fmt::format("{}: an array has an empty name; expected 1 to 65531 bytes", where));
        check_name(name + std::string(npy_suffix));
    }
    for (const auto& [name, bytes] : files) {
        if (ends_with_npy(name)) {
            throw IoError(fmt::format("{}: file member '{}' ends in .npy; expected arrays to be given as arrays", where, name));
        }
        check_name(name);
    }

    AtomicFile out(path, where);
    std::vector<WrittenMember> written;
    for (const auto& [name, array] : arrays) {
        write_member(out, name + std::string(npy_suffix), {npy_header(array->shape()), npy_data(*array)}, where, written);
    }
    for (const auto& [name, bytes] : files) write_member(out, name, {bytes}, where, written);
    write_directory(out, written, where);
    out.commit();
}

NpzContents read_npz_contents(const std::string& path, NpzMembers which, const std::string& context) {
    const std::string where = fmt::format("{}: {}", context, path);
    ArchiveReader file(path, where);
    const Directory dir = find_directory(file, where);
    std::vector<Member> members = read_directory(file, dir, where);
    locate_data(file, dir, members, where);

    NpzContents out;
    for (const auto& m : members) {
        const bool is_array = ends_with_npy(m.name);
        if (is_array && which == NpzMembers::files_only) continue;
        std::string bytes = file.read(m.data_offset, m.size, fmt::format("member '{}'", m.name));
        const std::uint32_t crc = crc32_of(bytes);
        if (crc != m.crc) {
            throw IoError(fmt::format("{}: member '{}' is corrupt (CRC32 {:08x}); expected {:08x} as the archive records",
                                      where, m.name, crc, m.crc));
        }
        if (is_array) {
            const std::string key = m.name.substr(0, m.name.size() - npy_suffix.size());
            out.arrays.emplace(key, decode_npy(bytes, fmt::format("{}: member '{}'", where, m.name)));
        } else {
            out.files.emplace(m.name, std::move(bytes));
        }
    }
    return out;
}

std::map<std::string, Array> read_npz(const std::string& path) {
    return std::move(read_npz_contents(path).arrays);
}

}  // namespace xg
