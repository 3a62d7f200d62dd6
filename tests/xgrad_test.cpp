// xgrad.hpp alone: what a program using the library sees. The engine's types and calls live in
// xg::detail, and no header it includes brings nlohmann-json along.
#include "xgrad/xgrad.hpp"

#include <type_traits>

#include <doctest/doctest.h>

#if defined(INCLUDE_NLOHMANN_JSON_FWD_HPP_) || defined(INCLUDE_NLOHMANN_JSON_HPP_)
constexpr bool json_reachable = true;
#else
constexpr bool json_reachable = false;
#endif

// Stand-ins for the engine's names. Qualified lookup of xg::Node finds a declaration of xg itself
// first and follows xg's using-directives only when there is none, so each xg::<name> below names
// its stand-in exactly when xg does not declare that name (a declaration in xg::detail does not count).
// A name xg declares again fails a CHECK below, or the build (decltype of an overload set); a
// using-directive for xg::detail in a header makes the lookup ambiguous, failing the build too.
namespace boundary_probe {
struct Hidden {};
using Node = Hidden;
using Storage = Hidden;
using RecordInputs = Hidden;
using PoolDelete = Hidden;
template <class>
using PoolAllocator = Hidden;
template <class>
using PooledPtr = Hidden;
inline constexpr Hidden make_node{};
inline constexpr Hidden make_pooled{};
inline constexpr Hidden live_node_count{};
inline constexpr Hidden pool_allocate{};
inline constexpr Hidden pool_deallocate{};
inline constexpr Hidden pool_cached_bytes{};
inline constexpr Hidden run_backward{};
inline constexpr Hidden check_backward_root{};
inline constexpr Hidden backward_with_graph{};
inline constexpr Hidden walk_tensor_gradients{};
inline constexpr Hidden save_weights_json{};
inline constexpr Hidden read_manifest_json{};
}  // namespace boundary_probe

namespace xg {
using namespace boundary_probe;
}  // namespace xg

namespace {
template <class T>
constexpr bool hidden = std::is_same_v<std::remove_cv_t<T>, boundary_probe::Hidden>;
}  // namespace

TEST_CASE("xgrad.hpp declares no engine type or call in namespace xg") {
    CHECK(hidden<xg::Node>);
    CHECK(hidden<xg::Storage>);
    CHECK(hidden<xg::RecordInputs>);
    CHECK(hidden<xg::PoolDelete>);
    CHECK(hidden<xg::PoolAllocator<float>>);
    CHECK(hidden<xg::PooledPtr<int>>);
    CHECK(hidden<decltype(xg::make_node)>);
    CHECK(hidden<decltype(xg::make_pooled)>);
    CHECK(hidden<decltype(xg::live_node_count)>);
    CHECK(hidden<decltype(xg::pool_allocate)>);
    CHECK(hidden<decltype(xg::pool_deallocate)>);
    CHECK(hidden<decltype(xg::pool_cached_bytes)>);
    CHECK(hidden<decltype(xg::run_backward)>);
    CHECK(hidden<decltype(xg::check_backward_root)>);
    CHECK(hidden<decltype(xg::backward_with_graph)>);
    CHECK(hidden<decltype(xg::walk_tensor_gradients)>);
    CHECK(hidden<decltype(xg::save_weights_json)>);
    CHECK(hidden<decltype(xg::read_manifest_json)>);
}

TEST_CASE("the engine's names are still there for the engine, in xg::detail") {
    CHECK(std::is_class_v<xg::detail::Node>);
    CHECK(std::is_class_v<xg::detail::RecordInputs>);
    CHECK(std::is_class_v<xg::detail::Storage>);
    CHECK(std::is_same_v<xg::Array::allocator_type, xg::detail::PoolAllocator<float>>);
}

TEST_CASE("xgrad.hpp does not include nlohmann-json: a program using xgrad does not need it") {
    CHECK_FALSE(json_reachable);
}
