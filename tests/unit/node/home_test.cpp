#include "node/home.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace bc::node {
namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST(Home, IdentityFileIsPrivateAndReloads) {
  test::TempDir dir;
  Home home(dir.path() / "h");
  auto id = session::Identity::generate("washington").value();
  ASSERT_TRUE(home.create_identity(id).ok());
  EXPECT_EQ(mode_of(home.identity_path()), 0600u);
  EXPECT_EQ(mode_of(home.dir()), 0700u);
  auto loaded = home.load_identity();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->name, "washington");
  EXPECT_EQ(loaded->signing.public_key(), id.signing.public_key());
  EXPECT_EQ(loaded->prekey.public_key(), id.prekey.public_key());
}

TEST(Home, NeverOverwritesAnIdentity) {
  test::TempDir dir;
  Home home(dir.path());
  auto first = session::Identity::generate("a").value();
  ASSERT_TRUE(home.create_identity(first).ok());
  auto second = session::Identity::generate("b").value();
  auto again = home.create_identity(second);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, util::Errc::already_exists);
  EXPECT_EQ(home.load_identity()->signing.public_key(), first.signing.public_key());
}

TEST(Home, RefusesAKeyFileOthersCanRead) {
  test::TempDir dir;
  Home home(dir.path());
  ASSERT_TRUE(home.create_identity(session::Identity::generate("a").value()).ok());
  ::chmod(home.identity_path().c_str(), 0644);
  auto loaded = home.load_identity();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos);
}

TEST(Home, RefusesADamagedKeyFile) {
  test::TempDir dir;
  Home home(dir.path());
  ASSERT_TRUE(home.create_identity(session::Identity::generate("a").value()).ok());
  {
    std::fstream f(home.identity_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x55');
  }
  EXPECT_EQ(home.load_identity().error().code, util::Errc::bad_format);
}

TEST(Home, MissingIdentityTellsWhatToRun) {
  test::TempDir dir;
  auto loaded = Home(dir.path()).load_identity();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, util::Errc::not_found);
  EXPECT_NE(loaded.error().message.find("backchannel init"), std::string::npos);
}

TEST(Home, StoreFileIsPrivate) {
  test::TempDir dir;
  Home home(dir.path());
  ASSERT_TRUE(home.open_store(session::Identity::generate("washington").value()).ok());
  EXPECT_EQ(mode_of(home.store_path()), 0600u);
}

TEST(Home, ResolveOrder) {
  EXPECT_EQ(Home::resolve(std::string("/x/y"))->dir(), "/x/y");
  ::setenv("BACKCHANNEL_HOME", "/from/env", 1);
  EXPECT_EQ(Home::resolve(std::nullopt)->dir(), "/from/env");
  ::unsetenv("BACKCHANNEL_HOME");
  ::setenv("HOME", "/home/op", 1);
  EXPECT_EQ(Home::resolve(std::nullopt)->dir(), "/home/op/.backchannel");
}

}  // namespace
}  // namespace bc::node
