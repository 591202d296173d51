#include "util/duration.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration("90s")->count(), 90);
  EXPECT_EQ(parse_duration("30m")->count(), 1800);
  EXPECT_EQ(parse_duration("12h")->count(), 43200);
  EXPECT_EQ(parse_duration("7d")->count(), 604800);
  EXPECT_EQ(parse_duration("2w")->count(), 1209600);
}

TEST(Duration, RefusesGarbage) {
  for (const char* bad : {"", "7", "d", "7x", "-1d", "0d", "1.5h", "7dd", "99999999999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
}

TEST(Duration, FormatsUtc) { EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC"); }

}  // namespace
}  // namespace bc::util
