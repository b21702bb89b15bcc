// require(): the message is the parts concatenated (numbers as std::to_string writes them), and
// it is built only when the check fails, so that checks on hot paths cost one branch.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

using namespace climvae;

namespace {

std::string message_of(bool condition, int value) {
  try {
    require(condition, "count ", value, " of ", std::size_t(7), " (", int64_t(-3), ", ", 2.5, ") in ",
            std::string("file.txt"));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A message part that counts how often it is turned into text.
struct CountingPart {
  int* conversions;
  operator std::string_view() const {
    ++*conversions;
    return "part";
  }
};

}  // namespace

TEST(Require, JoinsTextAndNumbersLikeToString) {
  EXPECT_EQ(message_of(false, 5),
            "count 5 of 7 (-3, " + std::to_string(2.5) + ") in file.txt");
  EXPECT_EQ(message_of(true, 5), "(no error)");
}

TEST(Require, BuildsTheMessageOnlyOnFailure) {
  int conversions = 0;
  const CountingPart part{&conversions};
  require(true, "never shown: ", part);
  EXPECT_EQ(conversions, 0);
  EXPECT_THROW(require(false, "shown: ", part), Error);
  EXPECT_EQ(conversions, 1);
}
