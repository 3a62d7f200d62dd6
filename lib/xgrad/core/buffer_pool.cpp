#include "xgrad/core/detail/buffer_pool.hpp"

#include <bit>
#include <cstdlib>
#include <utility>
#include <vector>

namespace xg::detail {
namespace {

// Size classes go in steps of 1.5 and 4/3 (64, 96, 128, 192, 256, ... bytes) up to 64 MiB, so a
// block wastes at most a third of itself: a buffer of 330 bytes takes 384, not 512.
// Larger blocks go straight to the system (they are rare and rounding them up would waste too much).
constexpr std::size_t kSmallestClass = 64;
constexpr std::size_t kClassCount = 41;  // 64 B .. 64 MiB
constexpr std::size_t kLargestPooled = std::size_t{64} << 20;
// A thread keeps at most this much in its free lists; more is returned to the system, so a
// burst of one-off buffers does not stay resident.
constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;

std::size_t class_of(std::size_t bytes) {
    if (bytes <= kSmallestClass) return 0;
    const std::size_t bits = std::bit_width(bytes - 1);  // 2^(bits-1) < bytes <= 2^bits, bits >= 7
    const std::size_t power_class = 2 * (bits - 6);        // the class of exactly 2^bits
    return bytes <= (std::size_t{3} << (bits - 2)) ? power_class - 1 : power_class;
}

std::size_t class_bytes(std::size_t size_class) {
    return size_class % 2 == 0 ? kSmallestClass << (size_class / 2) : (kSmallestClass * 3 / 2) << (size_class / 2);
}

// Blocks of the two alignments are kept apart: a block from malloc is not fit for SIMD data.
enum Kind : std::size_t { simd_block, object_block, kind_count };

// Objects of up to 248 bytes (tape nodes, Array headers, names) have classes of their own, in
// steps of 16 and each 8 bytes short of a multiple of 16: malloc adds an 8-byte header and
// rounds chunks up to 16, so such a block fills its chunk exactly (a 72-byte node takes an
// 80-byte chunk, not the 112 of the 96-byte class). A scalar graph is bound by how densely its
// nodes are packed.
constexpr std::size_t kLargestSmallObject = 248;
constexpr std::size_t kSmallObjectClasses = kLargestSmallObject / 16 + 1;
std::size_t small_object_class(std::size_t bytes) { return (bytes + 7) / 16; }
std::size_t small_object_bytes(std::size_t size_class) { return 16 * size_class + 8; }

Kind kind_of(std::size_t alignment) { return alignment <= kObjectAlignment ? object_block : simd_block; }

void* system_allocate(std::size_t bytes, Kind kind) {
    if (kind == object_block) {
        void* block = std::malloc(bytes == 0 ? 1 : bytes);
        if (!block) throw std::bad_alloc();
        return block;
    }
    // aligned_alloc wants a multiple of the alignment.
    const std::size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* block = std::aligned_alloc(kBufferAlignment, rounded == 0 ? kBufferAlignment : rounded);
    if (!block) throw std::bad_alloc();
    return block;
}

// Free blocks are kept in arrays of pointers, not in lists threaded through the blocks: taking
// a block then reads the (hot) array instead of the block's first word, which is cold after a
// large graph was freed; with a list, that one load was most of the cost of a scalar op.
struct ThreadCache {
    std::vector<void*> free[kind_count][kClassCount];
    std::vector<void*> small_objects[kSmallObjectClasses];
    std::size_t cached_bytes = 0;

    // The free list for blocks of `bytes` (at most kLargestPooled) of `kind`, and their block size.
    std::pair<std::vector<void*>*, std::size_t> list_for(std::size_t bytes, Kind kind) {
        if (kind == object_block && bytes <= kLargestSmallObject) {
            const std::size_t size_class = small_object_class(bytes);
            return {&small_objects[size_class], small_object_bytes(size_class)};
        }
        const std::size_t size_class = class_of(bytes);
        return {&free[kind][size_class], class_bytes(size_class)};
    }

    void release() noexcept {
        auto give_back = [](std::vector<void*>& blocks) {
            for (void* block : blocks) std::free(block);
            blocks.clear();
        };
        for (auto& lists : free) {
            for (auto& blocks : lists) give_back(blocks);
        }
        for (auto& blocks : small_objects) give_back(blocks);
        cached_bytes = 0;
    }
    ThreadCache();
    ~ThreadCache();
};

// This thread's cache while it exists (null before first use and after thread exit), read
// first on every call: a constinit pointer costs one load, where the thread_local object
// itself would cost a guard check on each access.
constinit thread_local ThreadCache* live_cache = nullptr;
// Set once the cache is destroyed: buffers freed later, while the thread's other
// thread_locals are being destroyed, go straight back to the system.
constinit thread_local bool cache_destroyed = false;

ThreadCache::ThreadCache() { live_cache = this; }

ThreadCache::~ThreadCache() {
    release();
    live_cache = nullptr;
    cache_destroyed = true;
}

// This thread's cache, made on first use; null once it is destroyed.
ThreadCache* cache() {
    if (live_cache) return live_cache;
    if (cache_destroyed) return nullptr;
    thread_local ThreadCache instance;
    return &instance;
}

}  // namespace

void* pool_allocate(std::size_t bytes, std::size_t alignment) {
    const Kind kind = kind_of(alignment);
    ThreadCache* c = bytes <= kLargestPooled ? cache() : nullptr;
    // Without a cache (a thread being torn down) the block is still made at its class's size:
    // another thread may free it into that class's list and hand it out for the whole size.
    if (!c) return system_allocate(pool_block_bytes(bytes, alignment), kind);
    const auto [list, block_bytes] = c->list_for(bytes, kind);
    std::vector<void*>& blocks = *list;
    if (!blocks.empty()) {
        void* block = blocks.back();
        blocks.pop_back();
        c->cached_bytes -= block_bytes;
        return block;
    }
    return system_allocate(block_bytes, kind);
}

void pool_deallocate(void* block, std::size_t bytes, std::size_t alignment) noexcept {
    if (!block) return;
    ThreadCache* c = bytes <= kLargestPooled ? cache() : nullptr;
    if (!c) {
        std::free(block);
        return;
    }
    const auto [list, block_bytes] = c->list_for(bytes, kind_of(alignment));
    if (c->cached_bytes + block_bytes > kMaxCachedBytes) {
        std::free(block);
        return;
    }
    try {
        list->push_back(block);
    } catch (const std::bad_alloc&) {  // no room to remember it: give it back instead
        std::free(block);
        return;
    }
    c->cached_bytes += block_bytes;
}

std::size_t pool_block_bytes(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes > kLargestPooled) return bytes;
    if (kind_of(alignment) == object_block && bytes <= kLargestSmallObject) {
        return small_object_bytes(small_object_class(bytes));
    }
    return class_bytes(class_of(bytes));
}

std::size_t pool_cached_bytes() noexcept {
    const ThreadCache* c = cache();
    return c ? c->cached_bytes : 0;
}

void pool_release_cached() noexcept {
    if (ThreadCache* c = cache()) c->release();
}

}  // namespace xg::detail
