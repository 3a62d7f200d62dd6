#include "xgrad/core/detail/buffer_pool.hpp"

#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/array.hpp"

namespace {
bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % xg::detail::kBufferAlignment == 0; }
}  // namespace

TEST_CASE("pooled blocks are aligned for SIMD, whatever their size") {
    for (std::size_t bytes : {1u, 4u, 63u, 64u, 65u, 1000u, 4096u, 1u << 20}) {
        void* p = xg::detail::pool_allocate(bytes);
        CHECK(aligned(p));
        xg::detail::pool_deallocate(p, bytes);
    }
    // Larger than any size class: straight from the system, still aligned.
    const std::size_t huge = std::size_t{65} << 20;
    void* p = xg::detail::pool_allocate(huge);
    CHECK(aligned(p));
    xg::detail::pool_deallocate(p, huge);
}

TEST_CASE("a freed block is handed out again for a request of the same size class") {
    xg::detail::pool_release_cached();
    CHECK(xg::detail::pool_cached_bytes() == 0);
    void* first = xg::detail::pool_allocate(1000);
    xg::detail::pool_deallocate(first, 1000);
    CHECK(xg::detail::pool_cached_bytes() == 1024);  // 1000 bytes live in the 1 KiB class
    void* second = xg::detail::pool_allocate(900);
    CHECK(second == first);
    CHECK(xg::detail::pool_cached_bytes() == 0);
    xg::detail::pool_deallocate(second, 900);
    xg::detail::pool_release_cached();
    CHECK(xg::detail::pool_cached_bytes() == 0);
}

TEST_CASE("blocks of other size classes are not mixed up") {
    xg::detail::pool_release_cached();
    void* small = xg::detail::pool_allocate(100);
    xg::detail::pool_deallocate(small, 100);
    void* large = xg::detail::pool_allocate(100000);
    CHECK(large != small);
    xg::detail::pool_deallocate(large, 100000);
    CHECK(xg::detail::pool_cached_bytes() == 128 + 131072);
    xg::detail::pool_release_cached();
}

TEST_CASE("a thread's cache is capped: a burst of one-off buffers goes back to the system") {
    xg::detail::pool_release_cached();
    std::vector<void*> blocks;
    const std::size_t bytes = std::size_t{32} << 20;
    for (int i = 0; i < 12; ++i) blocks.push_back(xg::detail::pool_allocate(bytes));  // 384 MiB
    for (void* b : blocks) xg::detail::pool_deallocate(b, bytes);
    CHECK(xg::detail::pool_cached_bytes() <= std::size_t{256} << 20);
    CHECK(xg::detail::pool_cached_bytes() > 0);
    xg::detail::pool_release_cached();
}

TEST_CASE("an array allocated on one thread may be freed on another") {
    std::vector<xg::Array> made;
    std::thread producer([&] {
        for (int i = 0; i < 100; ++i) made.push_back(xg::Array::from_shape({16, 16}));
    });
    producer.join();  // its cache is gone; the arrays outlive it
    for (auto& a : made) a.fill(1.0f);
    made.clear();     // freed into this thread's cache
    CHECK(xg::detail::pool_cached_bytes() >= 100 * 1024);
    xg::detail::pool_release_cached();
}

TEST_CASE("arrays take their storage from the pool and reuse it step after step") {
    xg::detail::pool_release_cached();
    const float* before = nullptr;
    {
        xg::Array a = xg::Array::from_shape({128, 512});
        before = a.data();
        CHECK(aligned(before));
    }
    xg::Array b = xg::Array::from_shape({128, 512});
    CHECK(b.data() == before);
}

TEST_CASE("size classes step by 1.5 and 4/3, so a block wastes at most a third of itself") {
    xg::detail::pool_release_cached();
    void* block = xg::detail::pool_allocate(90);
    xg::detail::pool_deallocate(block, 90);
    CHECK(xg::detail::pool_cached_bytes() == 96);
    CHECK(xg::detail::pool_allocate(65) == block);  // 65..96 bytes share the 96-byte class
    xg::detail::pool_deallocate(block, 65);
    void* larger = xg::detail::pool_allocate(97);  // the 128-byte class
    CHECK(larger != block);
    CHECK(aligned(larger));
    xg::detail::pool_deallocate(larger, 97);
    CHECK(xg::detail::pool_cached_bytes() == 96 + 128);
    void* node_sized = xg::detail::pool_allocate(330);
    xg::detail::pool_deallocate(node_sized, 330);
    CHECK(xg::detail::pool_cached_bytes() == 96 + 128 + 384);
    xg::detail::pool_release_cached();
}

namespace {
struct Counted {
    static inline int alive = 0;
    explicit Counted(int v) : value(v) { ++alive; }
    ~Counted() { --alive; }
    int value;
};
struct ThrowsOnBuild {
    ThrowsOnBuild() { throw std::runtime_error("no"); }
    char padding[200];
};
}  // namespace

TEST_CASE("make_pooled builds in a pooled block and gives it back when the pointer goes") {
    xg::detail::pool_release_cached();
    const void* address = nullptr;
    {
        xg::detail::PooledPtr<Counted> p = xg::detail::make_pooled<Counted>(7);
        CHECK(p->value == 7);
        CHECK(Counted::alive == 1);
        address = p.get();
    }
    CHECK(Counted::alive == 0);
    CHECK(xg::detail::pool_cached_bytes() == 8);  // the smallest object class
    CHECK(xg::detail::make_pooled<Counted>(8).get() == address);
    // A constructor that throws leaves nothing behind: the block is back in the cache.
    xg::detail::pool_release_cached();
    CHECK_THROWS_AS(xg::detail::make_pooled<ThrowsOnBuild>(), std::runtime_error);
    CHECK(xg::detail::pool_cached_bytes() == 200);  // 200 bytes fill an object class exactly
    xg::detail::pool_release_cached();
}

TEST_CASE("objects get classes in steps of 16 that fill malloc's chunks; SIMD buffers keep theirs") {
    using xg::detail::kObjectAlignment;
    CHECK(xg::detail::pool_block_bytes(72, kObjectAlignment) == 72);
    CHECK(xg::detail::pool_block_bytes(73, kObjectAlignment) == 88);
    CHECK(xg::detail::pool_block_bytes(88, kObjectAlignment) == 88);
    CHECK(xg::detail::pool_block_bytes(248, kObjectAlignment) == 248);
    CHECK(xg::detail::pool_block_bytes(249, kObjectAlignment) == 256);  // beyond: the 1.5 and 4/3 classes
    CHECK(xg::detail::pool_block_bytes(72) == 96);
    CHECK(xg::detail::pool_block_bytes(100) == 128);

    // An object block is never handed out for SIMD data, even of the same size.
    xg::detail::pool_release_cached();
    void* object = xg::detail::pool_allocate(64, kObjectAlignment);
    xg::detail::pool_deallocate(object, 64, kObjectAlignment);
    CHECK(xg::detail::pool_cached_bytes() == 72);
    void* simd = xg::detail::pool_allocate(64);
    CHECK(aligned(simd));
    CHECK(xg::detail::pool_cached_bytes() == 72);  // the object block is still cached
    CHECK(xg::detail::pool_allocate(64, kObjectAlignment) == object);
    xg::detail::pool_deallocate(simd, 64);
    xg::detail::pool_deallocate(object, 64, kObjectAlignment);
    xg::detail::pool_release_cached();
    CHECK(xg::detail::pool_cached_bytes() == 0);
}
