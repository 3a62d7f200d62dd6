// History: one value per epoch for every logged key, and the seconds per epoch.
#include "xgrad/train/history.hpp"

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("History collects a series per key, one entry per epoch") {
    xg::History h;
    CHECK(h.epochs() == 0);
    h.add({{"loss", 0.5}, {"accuracy", 0.8}}, 1.5);
    h.add({{"loss", 0.3}, {"accuracy", 0.9}}, 1.25);
    CHECK(h.epochs() == 2);
    CHECK(h["loss"] == std::vector<double>{0.5, 0.3});
    CHECK(h["accuracy"] == std::vector<double>{0.8, 0.9});
    CHECK(h.epoch_seconds == std::vector<double>{1.5, 1.25});
    CHECK(h.values.size() == 2);
}

TEST_CASE("asking History for a key it never saw is a ValueError") {
    xg::History h;
    h.add({{"loss", 0.5}}, 1.0);
    CHECK_THROWS_AS(h["val_loss"], xg::ValueError);
    const xg::History& read_only = h;
    CHECK(read_only["loss"].size() == 1);
}
