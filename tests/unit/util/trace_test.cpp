#include "util/trace.h"

#include <sys/stat.h>

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <vector>

#include "support/temp_dir.h"

namespace bc::util {
namespace {

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Trace, OffWhenTheVariableIsUnsetOrEmpty) {
  auto unset = Trace::from_env(nullptr);
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(*unset, nullptr);
  auto empty = Trace::from_env("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, nullptr);
}

TEST(Trace, OneLinePerStampWithRealtimeMicroseconds) {
  test::TempDir dir;
  const auto path = dir.path() / "trace";
  const std::int64_t before = Trace::now_us();
  {
    auto trace = Trace::from_env(path.c_str());
    ASSERT_TRUE(trace.ok());
    ASSERT_NE(*trace, nullptr);
    (*trace)->record("durable", "link=moscow seq=17");
    (*trace)->record_at(1'764'639'000'123'456, "received", "env=0011223344556677");
  }  // the destructor writes what is buffered
  const std::int64_t after = Trace::now_us();
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  std::istringstream first(lines[0]);
  std::int64_t at = 0;
  std::string stage, link, seq;
  first >> at >> stage >> link >> seq;
  EXPECT_GE(at, before);
  EXPECT_LE(at, after);
  EXPECT_EQ(stage, "durable");
  EXPECT_EQ(link, "link=moscow");
  EXPECT_EQ(seq, "seq=17");
  EXPECT_EQ(lines[1], "1764639000123456 received env=0011223344556677");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Trace, TheWriterFlushesWithoutBeingAsked) {
  test::TempDir dir;
  const auto path = dir.path() / "trace";
  auto trace = Trace::open(path.string());
  ASSERT_TRUE(trace.ok());
  (*trace)->record("sealed", "link=a seq=1 off=0 env=00");
  // The writer appends every kFlushInterval; give a loaded machine plenty of rounds.
  for (int i = 0; i < 200 && lines_of(path).empty(); ++i) std::this_thread::sleep_for(Trace::kFlushInterval);
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" sealed link=a seq=1 off=0 env=00"), std::string::npos);
}

TEST(Trace, AppendsToAnExistingFile) {
  test::TempDir dir;
  const auto path = dir.path() / "trace";
  for (int run = 0; run < 2; ++run) {
    auto trace = Trace::open(path.string());
    ASSERT_TRUE(trace.ok());
    (*trace)->record("wire", "env=" + std::to_string(run));
  }
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("wire env=0"), std::string::npos);
  EXPECT_NE(lines[1].find("wire env=1"), std::string::npos);
}

TEST(Trace, EnvelopeKeyIsTheFirstEightBytesInHex) {
  const std::vector<std::uint8_t> envelope = {0x9f, 0x0c, 0x11, 0xd2, 0xa3, 0xb4, 0xc5, 0xd6, 0xff, 0xee};
  EXPECT_EQ(Trace::envelope_key(envelope), "env=9f0c11d2a3b4c5d6");
}

TEST(Trace, OpenFailsForAnUnwritablePath) {
  test::TempDir dir;
  auto trace = Trace::open((dir.path() / "missing" / "trace").string());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.error().code, Errc::io);
}

}  // namespace
}  // namespace bc::util
