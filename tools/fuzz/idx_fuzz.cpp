// libFuzzer target: xg::parse_idx on arbitrary bytes (raw IDX or gzip). Anything but a clean result or
// an IoError (a crash, a sanitizer report, another exception, a hang, a huge allocation) is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "xgrad/core/error.hpp"
#include "xgrad/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const xg::ByteArray a = xg::parse_idx(std::span(data, size), "fuzz input");
        // A result must hold exactly the bytes after its header.
        std::size_t n = 1;
        for (auto extent : a.shape()) n *= extent;
        if (n != a.size() || a.dimension() < 1 || a.dimension() > 4) __builtin_trap();
    } catch (const xg::IoError&) {
    }
    return 0;
}
