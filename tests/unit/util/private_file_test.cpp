#include "util/private_file.h"

#include <sys/stat.h>

#include <fstream>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace bc::util {
namespace {

TEST(PrivateFile, WrittenWholeWithMode0600) {
  test::TempDir dir;
  auto path = dir.path() / "key";
  ASSERT_TRUE(write_private_file(path, as_bytes("secret bytes")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "secret bytes");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "key.tmp"));
}

TEST(PrivateFile, NeverReplacesAnExistingFile) {
  test::TempDir dir;
  auto path = dir.path() / "key";
  ASSERT_TRUE(write_private_file(path, as_bytes("first")).ok());
  auto again = write_private_file(path, as_bytes("second"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "first");
}

}  // namespace
}  // namespace bc::util

namespace bc::util {
namespace {

TEST(PrivateFile, ReadRefusesWhatOthersCanReadAndWhatIsAbsent) {
  test::TempDir dir;
  auto path = dir.path() / "key";
  Bytes buf;
  auto into = [&](std::size_t n) {
    buf.resize(n);
    return MutableByteView(buf);
  };
  EXPECT_EQ(read_private_file(path, 64, into).error().code, Errc::not_found);
  ASSERT_TRUE(write_private_file(path, as_bytes("0123456789")).ok());
  ASSERT_TRUE(read_private_file(path, 64, into).ok());
  EXPECT_EQ(as_string(buf), "0123456789");
  EXPECT_EQ(read_private_file(path, 4, into).error().code, Errc::bad_format);
  ::chmod(path.c_str(), 0640);
  EXPECT_EQ(read_private_file(path, 64, into).error().code, Errc::refused);
}

}  // namespace
}  // namespace bc::util
