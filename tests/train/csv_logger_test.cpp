// CsvLogger: the rows it writes, continuing a file after a resume, and refusing bad files early.
#include "xgrad/train/csv_logger.hpp"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "../io/scratch_dir.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/model.hpp"

using xg::test::ScratchDir;

namespace {

struct CsvSetup {
    xg::Array x = xg::uninitialized({40, 2});
    xg::Array y = xg::uninitialized({40, 1});
    std::shared_ptr<xg::Sequential> net = std::make_shared<xg::Sequential>();
    std::unique_ptr<xg::Model> model;
    CsvSetup() {
        xg::manual_seed(3);
        for (std::size_t i = 0; i < 40; ++i) {
            x(i, 0) = static_cast<float>(i) / 20.0f - 1.0f;
            x(i, 1) = static_cast<float>(i % 7) / 7.0f;
            y(i, 0) = 2.0f * x(i, 0) - x(i, 1) > 0.0f ? 1.0f : 0.0f;
        }
        net->emplace<xg::Dense>(2, 1, "sigmoid");
        model = std::make_unique<xg::Model>(net);
        model->compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = 0.1f}), "binary_crossentropy", {"accuracy"});
    }
    xg::History fit(std::shared_ptr<xg::CsvLogger> logger, std::size_t epochs, std::size_t initial_epoch = 0) {
        xg::FitOptions o;
        o.epochs = epochs;
        o.initial_epoch = initial_epoch;
        o.batch_size = 8;
        o.verbose = 0;
        o.validation_split = 0.25;
        o.callbacks = {std::move(logger)};
        return model->fit(x, y, o);
    }
};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
}

}  // namespace

TEST_CASE("CsvLogger writes a header of sorted keys and one row per epoch with the history's values") {
    ScratchDir dir;
    CsvSetup s;
    auto logger = std::make_shared<xg::CsvLogger>(dir / "log.csv");
    const xg::History history = s.fit(logger, 3);
    const auto rows = lines(xg::test::read_bytes(dir / "log.csv"));
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss");
    CHECK(logger->columns() == std::vector<std::string>{"epoch", "accuracy", "loss", "val_accuracy", "val_loss"});
    for (std::size_t e = 0; e < 3; ++e) {
        const auto f = fields(rows[e + 1]);
        REQUIRE(f.size() == 5);
        CHECK(f[0] == std::to_string(e));
        // The text reads back as exactly the logged double.
        CHECK(std::stod(f[1]) == history["accuracy"][e]);
        CHECK(std::stod(f[2]) == history["loss"][e]);
        CHECK(std::stod(f[3]) == history["val_accuracy"][e]);
        CHECK(std::stod(f[4]) == history["val_loss"][e]);
    }
    CHECK(dir.entries() == std::vector<std::string>{"log.csv"});
}

TEST_CASE("CsvLogger starts a new file unless appending, and a resumed run continues it without duplicates") {
    ScratchDir dir;
    xg::test::write_bytes(dir / "log.csv", "old content\n");
    CsvSetup s;
    s.fit(std::make_shared<xg::CsvLogger>(dir / "log.csv"), 3);
    const auto first = lines(xg::test::read_bytes(dir / "log.csv"));
    REQUIRE(first.size() == 4);

    // Killed after epoch 2's row but before its checkpoint: the resumed run trains epoch 2 again.
    auto resumed = std::make_shared<xg::CsvLogger>(dir / "log.csv", xg::CsvLoggerOptions{.append = true});
    s.fit(resumed, 5, 2);
    const auto after = lines(xg::test::read_bytes(dir / "log.csv"));
    REQUIRE(after.size() == 6);
    CHECK(after[0] == first[0]);
    CHECK(after[1] == first[1]);
    CHECK(after[2] == first[2]);
    for (std::size_t e = 0; e < 5; ++e) CHECK(fields(after[e + 1])[0] == std::to_string(e));
    CHECK(after[3] != first[3]);  // epoch 2 trained again from other weights

    // Appending to a file that does not exist yet starts it.
    CsvSetup t;
    t.fit(std::make_shared<xg::CsvLogger>(dir / "new.csv", xg::CsvLoggerOptions{.append = true}), 2);
    CHECK(lines(xg::test::read_bytes(dir / "new.csv")).size() == 3);
}

TEST_CASE("CsvLogger uses the separator it is given") {
    ScratchDir dir;
    CsvSetup s;
    s.fit(std::make_shared<xg::CsvLogger>(dir / "log.tsv", xg::CsvLoggerOptions{.separator = '\t'}), 1);
    const auto rows = lines(xg::test::read_bytes(dir / "log.tsv"));
    CHECK(rows[0] == "epoch\taccuracy\tloss\tval_accuracy\tval_loss");
    CHECK(rows[1].rfind("0\t", 0) == 0);
}

TEST_CASE("CsvLogger refuses a bad path or a file it did not write before the first epoch") {
    ScratchDir dir;
    CsvSetup s;
    const xg::Array before = s.net->parameters()[0].value();
    CHECK_THROWS_WITH_AS(s.fit(std::make_shared<xg::CsvLogger>(dir / "missing/log.csv"), 2), doctest::Contains("CsvLogger"),
                         xg::IoError);
    xg::test::write_bytes(dir / "notes.csv", "name,value\nx,1\n");
    CHECK_THROWS_WITH_AS(s.fit(std::make_shared<xg::CsvLogger>(dir / "notes.csv", xg::CsvLoggerOptions{.append = true}), 2),
                         doctest::Contains("first column is 'epoch'"), xg::IoError);
    xg::test::write_bytes(dir / "broken.csv", "epoch,loss\n0,0.5\nx,0.4\n");
    CHECK_THROWS_WITH_AS(s.fit(std::make_shared<xg::CsvLogger>(dir / "broken.csv", xg::CsvLoggerOptions{.append = true}), 2),
                         doctest::Contains("line 3 of"), xg::IoError);
    CHECK(xg::test::read_bytes(dir / "notes.csv") == "name,value\nx,1\n");
    CHECK(s.net->parameters()[0].value() == before);  // no epoch ran
    CHECK_THROWS_AS(xg::CsvLogger(""), xg::ValueError);
    CHECK_THROWS_AS(xg::CsvLogger("a.csv", {.separator = '"'}), xg::ValueError);

    // Continuing a file with other columns is refused at the first row, leaving the file as it was.
    xg::test::write_bytes(dir / "other.csv", "epoch,accuracy\n0,0.5\n");
    CHECK_THROWS_WITH_AS(s.fit(std::make_shared<xg::CsvLogger>(dir / "other.csv", xg::CsvLoggerOptions{.append = true}), 2, 1),
                         doctest::Contains("expected the columns of"), xg::ValueError);
    CHECK(xg::test::read_bytes(dir / "other.csv") == "epoch,accuracy\n0,0.5\n");
}
