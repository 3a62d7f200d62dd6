#pragma once
// Buffers for tensor values, gradients and tape nodes, recycled per thread.
//
// A training step frees and re-allocates the same set of buffers every step, and a graph of
// many tiny ops allocates and frees hundreds of thousands of small blocks at once. Both are
// slow through malloc (aligned allocations bypass its fast path; mass frees trigger its
// consolidation). The pool keeps freed blocks per thread, by size class (steps of 1.5 and 4/3 for
// SIMD buffers; steps of 16 up to 248 bytes for other objects), and hands them out again:
// steady-state training allocates nothing from the system.
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include <xsimd/memory/xsimd_alignment.hpp>

// The engine's, not the API's (xg::detail): Array names PoolAllocator, so this header comes with
// core/array.hpp, but users allocate through Arrays and Tensors.
namespace xg::detail {

/// Every pooled block starts on a 64-byte boundary (a cache line; enough for AVX-512 loads).
inline constexpr std::size_t kBufferAlignment = 64;

/// Alignment enough for any object that is not SIMD data: what malloc gives.
inline constexpr std::size_t kObjectAlignment = alignof(std::max_align_t);

/// A block of at least `bytes` bytes, aligned to kBufferAlignment, or only to kObjectAlignment
/// when `alignment` asks no more; throws std::bad_alloc. Objects (tape nodes, Array headers) take
/// the second kind: a 64-byte-aligned block costs the system allocator two and a half times its
/// size in address space, and a scalar graph's speed is bound by how densely its nodes are packed.
void* pool_allocate(std::size_t bytes, std::size_t alignment = kBufferAlignment);
/// Returns a block from pool_allocate (same `bytes` and `alignment`) to this thread's free lists.
void pool_deallocate(void* block, std::size_t bytes, std::size_t alignment = kBufferAlignment) noexcept;

/// The size of the block that pool_allocate(bytes, alignment) hands out (its size class).
std::size_t pool_block_bytes(std::size_t bytes, std::size_t alignment = kBufferAlignment) noexcept;

/// Bytes held in this thread's free lists, ready for reuse.
std::size_t pool_cached_bytes() noexcept;
/// Gives this thread's cached blocks back to the system (e.g. after a large one-off graph).
void pool_release_cached() noexcept;

/// A standard allocator over the pool; stateless, so any two compare equal. Numbers (the elements
/// of arrays) are aligned for SIMD; other types only as they need.
template <class T>
struct PoolAllocator {
    static constexpr std::size_t alignment = std::is_arithmetic_v<T> ? kBufferAlignment : kObjectAlignment;

    using value_type = T;

    PoolAllocator() noexcept = default;
    template <class U>
    PoolAllocator(const PoolAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        static_assert(alignof(T) <= alignment, "PoolAllocator: over-aligned types are not supported");
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(pool_allocate(n * sizeof(T), alignment));
    }
    void deallocate(T* p, std::size_t n) noexcept { pool_deallocate(p, n * sizeof(T), alignment); }

    template <class U>
    bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
    template <class U>
    bool operator!=(const PoolAllocator<U>&) const noexcept { return false; }
};

/// Destroys and returns to the pool an object made by make_pooled.
struct PoolDelete {
    template <class T>
    void operator()(T* object) const noexcept {
        object->~T();
        pool_deallocate(object, sizeof(T), kObjectAlignment);
    }
};

/// An owning pointer to an object in the pool.
template <class T>
using PooledPtr = std::unique_ptr<T, PoolDelete>;

/// A T built from `args` in a pooled block (for objects made and dropped at a high rate).
template <class T, class... Args>
PooledPtr<T> make_pooled(Args&&... args) {
    static_assert(alignof(T) <= kObjectAlignment, "make_pooled: over-aligned types are not supported");
    void* block = pool_allocate(sizeof(T), kObjectAlignment);
    try {
        return PooledPtr<T>(new (block) T(std::forward<Args>(args)...));
    } catch (...) {
        pool_deallocate(block, sizeof(T), kObjectAlignment);
        throw;
    }
}

}  // namespace xg::detail

namespace xsimd {
// Pooled blocks are aligned at least as strictly as xsimd's own allocator: let xtensor use
// aligned SIMD loads and stores on them.
template <class T>
struct allocator_alignment<xg::detail::PoolAllocator<T>> {
    using type = aligned_mode;
};
}  // namespace xsimd
