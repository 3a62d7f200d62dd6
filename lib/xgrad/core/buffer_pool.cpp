#include "xgrad/core/buffer_pool.hpp"

#include <bit>
#include <cstdlib>

namespace xg {
namespace {

// Size classes are powers of two from 64 bytes to 64 MiB; larger blocks go straight to the
// system (they are rare and rounding them up would waste too much).
constexpr std::size_t kSmallestClassBits = 6;
constexpr std::size_t kClassCount = 21;  // 2^6 .. 2^26 bytes
constexpr std::size_t kLargestPooled = std::size_t{1} << (kSmallestClassBits + kClassCount - 1);
// A thread keeps at most this much in its free lists; more is returned to the system, so a
// burst of one-off buffers does not stay resident.
constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;

struct FreeBlock {
    FreeBlock* next;
};

std::size_t class_of(std::size_t bytes) {
    if (bytes <= (std::size_t{1} << kSmallestClassBits)) return 0;
    return std::bit_width(bytes - 1) - kSmallestClassBits;
}

std::size_t class_bytes(std::size_t size_class) { return std::size_t{1} << (size_class + kSmallestClassBits); }

void* system_allocate(std::size_t bytes) {
    // aligned_alloc wants a multiple of the alignment.
    const std::size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* block = std::aligned_alloc(kBufferAlignment, rounded == 0 ? kBufferAlignment : rounded);
    if (!block) throw std::bad_alloc();
    return block;
}

struct ThreadCache {
    FreeBlock* heads[kClassCount] = {};
    std::size_t cached_bytes = 0;

    void release() noexcept {
        for (auto& head : heads) {
            while (head) {
                FreeBlock* next = head->next;
                std::free(head);
                head = next;
            }
        }
        cached_bytes = 0;
    }
    ~ThreadCache();
};

// Trivially destructible, so still readable while the thread's other thread_locals are
// being destroyed: buffers freed after the cache is gone go straight back to the system.
thread_local bool cache_destroyed = false;

ThreadCache::~ThreadCache() {
    release();
    cache_destroyed = true;
}

ThreadCache& cache() {
    thread_local ThreadCache instance;
    return instance;
}

}  // namespace

void* pool_allocate(std::size_t bytes) {
    if (bytes > kLargestPooled || cache_destroyed) return system_allocate(bytes);
    const std::size_t size_class = class_of(bytes);
    ThreadCache& c = cache();
    if (FreeBlock* block = c.heads[size_class]) {
        c.heads[size_class] = block->next;
        c.cached_bytes -= class_bytes(size_class);
        return block;
    }
    return system_allocate(class_bytes(size_class));
}

void pool_deallocate(void* block, std::size_t bytes) noexcept {
    if (!block) return;
    if (bytes > kLargestPooled || cache_destroyed) {
        std::free(block);
        return;
    }
    const std::size_t size_class = class_of(bytes);
    ThreadCache& c = cache();
    if (c.cached_bytes + class_bytes(size_class) > kMaxCachedBytes) {
        std::free(block);
        return;
    }
    auto* free_block = static_cast<FreeBlock*>(block);
    free_block->next = c.heads[size_class];
    c.heads[size_class] = free_block;
    c.cached_bytes += class_bytes(size_class);
}

std::size_t pool_cached_bytes() noexcept { return cache_destroyed ? 0 : cache().cached_bytes; }

void pool_release_cached() noexcept {
    if (!cache_destroyed) cache().release();
}

}  // namespace xg
