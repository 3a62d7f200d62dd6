#include "xgrad/core/detail/storage.hpp"

#include <latch>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("a new storage holds nothing, and reading an Array from it is a StateError") {
    const xg::detail::Storage s;
    CHECK(s.empty());
    CHECK_FALSE(s.is_scalar());
    CHECK_THROWS_WITH_AS(s.array(), doctest::Contains("read an Array from empty storage"), xg::StateError);
}

TEST_CASE("assign(float) holds the value inline as a 0-d content") {
    xg::detail::Storage s;
    s.assign(2.5f);
    CHECK_FALSE(s.empty());
    CHECK(s.is_scalar());
    CHECK(s.scalar() == 2.5f);
    CHECK(s.shape() == xg::Shape{});
    CHECK(s.size() == 1);
}

TEST_CASE("assign(Array) keeps a 0-d Array as an inline float and anything else as an Array") {
    xg::detail::Storage s;
    SUBCASE("0-d") {
        s.assign(xg::scalar_array(-3.0f));
        CHECK(s.is_scalar());
        CHECK(s.scalar() == -3.0f);
        CHECK(s.shape() == xg::Shape{});
    }
    SUBCASE("shape (1,) is an Array, not a scalar") {
        s.assign(xg::Array{4.0f});
        CHECK_FALSE(s.is_scalar());
        CHECK(s.shape() == xg::Shape{1});
        CHECK(s.size() == 1);
        CHECK(s.array() == xg::Array{4.0f});
    }
    SUBCASE("shape (2, 3)") {
        const xg::Array value = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
        s.assign(value);
        CHECK_FALSE(s.empty());
        CHECK_FALSE(s.is_scalar());
        CHECK(s.shape() == xg::Shape{2, 3});
        CHECK(s.size() == 6);
        CHECK(s.array() == value);
    }
    SUBCASE("a 0-d Array replacing an Array makes the content a scalar again") {
        s.assign(xg::Array{1.0f, 2.0f});
        s.assign(xg::scalar_array(7.0f));
        CHECK(s.is_scalar());
        CHECK(s.scalar() == 7.0f);
        CHECK(s.array().dimension() == 0);
        CHECK(s.array()() == 7.0f);
    }
    SUBCASE("a float replacing an Array makes the content a scalar again") {
        s.assign(xg::Array{1.0f, 2.0f});
        s.assign(8.0f);
        CHECK(s.is_scalar());
        CHECK(s.shape() == xg::Shape{});
        CHECK(s.array().dimension() == 0);
        CHECK(s.array()() == 8.0f);
    }
}

TEST_CASE("array() of a scalar is a 0-d Array with the value, built once and kept") {
    xg::detail::Storage s;
    s.assign(1.25f);
    const xg::Array& a = s.array();
    CHECK(a.dimension() == 0);
    CHECK(a.shape() == xg::Shape{});
    CHECK(a.size() == 1);
    CHECK(a() == 1.25f);
    CHECK(&s.array() == &a);
    // Asking for the Array does not change what the storage is.
    CHECK(s.is_scalar());
    CHECK(s.scalar() == 1.25f);
}

TEST_CASE("a scalar re-assigned after its Array was built reads the new value through array()") {
    xg::detail::Storage s;
    s.assign(1.0f);
    CHECK(s.array()() == 1.0f);
    s.assign(2.0f);
    CHECK(s.scalar() == 2.0f);
    CHECK(s.array()() == 2.0f);
    s.assign(xg::scalar_array(3.0f));
    CHECK(s.array()() == 3.0f);
}

TEST_CASE("an Array content re-assigned keeps its Array object, so earlier references see the new content") {
    xg::detail::Storage s;
    s.assign(xg::Array{1.0f, 2.0f});
    const xg::Array& before = s.array();
    s.assign(xg::Array{{3.0f, 4.0f, 5.0f}});
    CHECK(&s.array() == &before);
    CHECK(before == xg::Array{{3.0f, 4.0f, 5.0f}});
    CHECK(s.shape() == xg::Shape{1, 3});
}

TEST_CASE("add(float) on a scalar keeps an Array handed out earlier valid and in step") {
    xg::detail::Storage s;
    s.assign(1.5f);
    const xg::Array& a = s.array();
    s.add(2.0f);
    CHECK(s.is_scalar());
    CHECK(s.scalar() == 3.5f);
    CHECK(&s.array() == &a);
    CHECK(a() == 3.5f);
    s.add(-0.5f);
    CHECK(a() == 3.0f);
    CHECK(s.scalar() == 3.0f);
}

TEST_CASE("add(float) on a scalar without an Array yet adds inline, and a later array() sees the sum") {
    xg::detail::Storage s;
    s.assign(1.0f);
    s.add(0.25f);
    s.add(0.25f);
    CHECK(s.is_scalar());
    CHECK(s.scalar() == 1.5f);
    CHECK(s.array()() == 1.5f);
}

TEST_CASE("add(float) on an empty storage takes the value as an inline scalar") {
    xg::detail::Storage s;
    s.add(-2.0f);
    CHECK(s.is_scalar());
    CHECK(s.scalar() == -2.0f);
    s.add(5.0f);
    CHECK(s.scalar() == 3.0f);
}

TEST_CASE("add(float) on an Array adds to its one element, and is a ShapeError for any other size") {
    xg::detail::Storage s;
    SUBCASE("shape (1,)") {
        s.assign(xg::Array{2.0f});
        const xg::Array& a = s.array();
        s.add(3.0f);
        CHECK_FALSE(s.is_scalar());
        CHECK(s.shape() == xg::Shape{1});
        CHECK(&s.array() == &a);
        CHECK(a == xg::Array{5.0f});
    }
    SUBCASE("shape (1, 1)") {
        s.assign(xg::Array(xg::Shape{1, 1}, 2.0f));
        s.add(-1.0f);
        CHECK(s.array() == xg::Array(xg::Shape{1, 1}, 1.0f));
    }
    SUBCASE("shape (3,)") {
        s.assign(xg::Array{1.0f, 2.0f, 3.0f});
        CHECK_THROWS_WITH_AS(s.add(1.0f), doctest::Contains("added a scalar to an array of shape (3,)"), xg::ShapeError);
        CHECK(s.array() == xg::Array{1.0f, 2.0f, 3.0f});
    }
    SUBCASE("shape (0,)") {
        s.assign(xt::zeros<float>({0}));
        CHECK_THROWS_AS(s.add(1.0f), xg::ShapeError);
    }
}

TEST_CASE("mutable_array() makes the Array authoritative: later changes through it are what is read") {
    xg::detail::Storage s;
    s.assign(4.0f);
    xg::Array& m = s.mutable_array();
    CHECK_FALSE(s.is_scalar());
    CHECK_FALSE(s.empty());
    CHECK(m.dimension() == 0);
    CHECK(m() == 4.0f);
    CHECK(s.shape() == xg::Shape{});
    CHECK(s.size() == 1);

    m() = 9.0f;
    CHECK(&s.array() == &m);
    CHECK(s.array()() == 9.0f);
    // An Array of one element still takes add(float), on the Array.
    s.add(1.0f);
    CHECK(m() == 10.0f);
    CHECK(s.array()() == 10.0f);
}

TEST_CASE("mutable_array() after array() hands out the same Array object") {
    xg::detail::Storage s;
    s.assign(0.5f);
    const xg::Array& read = s.array();
    xg::Array& written = s.mutable_array();
    CHECK(&read == &written);
    written() = -1.0f;
    CHECK(read() == -1.0f);
}

TEST_CASE("mutable_array() of an Array content is that content") {
    xg::detail::Storage s;
    s.assign(xg::Array{1.0f, 2.0f});
    xg::Array& m = s.mutable_array();
    CHECK(&m == &s.array());
    m(1) = 5.0f;
    CHECK(s.array() == xg::Array{1.0f, 5.0f});
}

TEST_CASE("mutable_array() of an empty storage is a StateError and leaves it empty") {
    xg::detail::Storage s;
    CHECK_THROWS_AS(s.mutable_array(), xg::StateError);
    CHECK(s.empty());
}

TEST_CASE("reset() empties the storage, whatever it held") {
    xg::detail::Storage s;
    SUBCASE("a scalar") { s.assign(1.0f); }
    SUBCASE("a scalar with its Array built") {
        s.assign(1.0f);
        CHECK(s.array()() == 1.0f);
    }
    SUBCASE("an Array") { s.assign(xg::Array{1.0f, 2.0f}); }
    SUBCASE("an Array made authoritative from a scalar") {
        s.assign(1.0f);
        s.mutable_array();
    }
    s.reset();
    CHECK(s.empty());
    CHECK_FALSE(s.is_scalar());
    CHECK_THROWS_AS(s.array(), xg::StateError);
    // Usable again, and nothing of the old content leaks into the new.
    s.add(6.0f);
    CHECK(s.is_scalar());
    CHECK(s.array()() == 6.0f);
    s.reset();
    s.assign(xg::Array{3.0f, 4.0f});
    CHECK(s.array() == xg::Array{3.0f, 4.0f});
}

TEST_CASE("threads reading array() of the same scalar at once all get one Array with the value") {
    constexpr int kThreads = 4;
    for (int round = 0; round < 1000; ++round) {
        CAPTURE(round);
        xg::detail::Storage s;
        const float value = 0.5f + static_cast<float>(round);
        s.assign(value);
        std::latch start(kThreads);
        std::vector<const xg::Array*> seen(kThreads, nullptr);
        std::vector<float> values(kThreads, 0.0f);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                start.arrive_and_wait();
                const xg::Array& a = s.array();
                seen[t] = &a;
                values[t] = a();
            });
        }
        for (std::thread& t : threads) t.join();
        const xg::Array* kept = &s.array();
        for (int t = 0; t < kThreads; ++t) {
            CHECK(seen[t] == kept);
            CHECK(values[t] == value);
        }
        CHECK(s.is_scalar());
        CHECK((*kept)() == value);
    }
}
