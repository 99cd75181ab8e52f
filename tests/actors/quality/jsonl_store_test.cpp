// The bounded JSON-lines store: appends, counts existing lines, rotates to <path>.1.
#include "actors/quality/jsonl_store.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using sa::quality::jsonl_store;
namespace fs = std::filesystem;

namespace {

std::size_t lines(const fs::path& p) {
  std::ifstream in(p);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line))
    ++n;
  return n;
}

} // namespace

TEST_CASE("the store keeps at most two generations of max_records lines", "[quality][store]") {
  auto dir = fs::temp_directory_path() / ("sa-jsonl-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto path = (dir / "sub" / "x.jsonl").string();
  {
    jsonl_store s{path, 3};
    for (int i = 0; i < 3; ++i)
      REQUIRE(s.append("{\"i\":" + std::to_string(i) + "}"));
    CHECK(s.records() == 3);
    CHECK_FALSE(fs::exists(path + ".1"));
    CHECK_FALSE(s.append("{\"a\":\n1}"));
    CHECK(s.last_error() == "a record must be one line");
  }
  {
    jsonl_store reopened{path, 3};  // counts what is there: the next append rotates
    CHECK(reopened.records() == 3);
    REQUIRE(reopened.append("{\"i\":3}"));
    CHECK(lines(path + ".1") == 3);
    CHECK(lines(path) == 1);
    for (int i = 4; i < 8; ++i)
      REQUIRE(reopened.append("{\"i\":" + std::to_string(i) + "}"));
    // i = 3, 4, 5 filled the second file, which became <path>.1 (replacing i = 0, 1, 2) when i = 6 came.
    CHECK(lines(path + ".1") == 3);
    CHECK(lines(path) == 2);  // i = 6, 7
    std::ifstream rotated(path + ".1");
    std::string first;
    std::getline(rotated, first);
    CHECK(first == "{\"i\":3}");
    std::ifstream in(path);
    std::string last;
    std::getline(in, last);
    std::getline(in, last);
    CHECK(last == "{\"i\":7}");
  }
  fs::remove_all(dir);
}
