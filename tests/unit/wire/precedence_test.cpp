#include "wire/precedence.h"

#include <gtest/gtest.h>

namespace bc::wire {
namespace {

TEST(Precedence, NamesRoundTrip) {
  for (Precedence p : kAllPrecedences) {
    auto parsed = parse_precedence(precedence_name(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(precedence_name(Precedence::flash), "flash");
  EXPECT_EQ(precedence_name(Precedence::routine), "routine");
}

TEST(Precedence, ParseIgnoresCaseAndRefusesOthers) {
  EXPECT_EQ(*parse_precedence("FLASH"), Precedence::flash);
  EXPECT_EQ(*parse_precedence("Priority"), Precedence::priority);
  for (const char* bad : {"", "urgent", "flash ", "routin"}) {
    auto r = parse_precedence(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, util::Errc::invalid_argument);
  }
}

TEST(Precedence, CodesAndOrder) {
  EXPECT_EQ(precedence_code(Precedence::flash), 0);
  EXPECT_EQ(precedence_code(Precedence::routine), 3);
  EXPECT_EQ(precedence_from_code(2), Precedence::priority);
  EXPECT_FALSE(precedence_from_code(4).has_value());
  EXPECT_TRUE(outranks(Precedence::flash, Precedence::immediate));
  EXPECT_TRUE(outranks(Precedence::priority, Precedence::routine));
  EXPECT_FALSE(outranks(Precedence::routine, Precedence::routine));
  EXPECT_FALSE(outranks(Precedence::routine, Precedence::flash));
}

}  // namespace
}  // namespace bc::wire
