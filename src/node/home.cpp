#include "node/home.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/secure_buffer.h"
#include "util/byte_io.h"
#include "util/private_file.h"

namespace bc::node {
namespace {

constexpr std::string_view kKeyFileMagic = "BCIDKEY1";
constexpr std::size_t kMaxKeyFileSize = 512;

util::Error io_error(const std::string& what) {
  return util::make_error(util::Errc::io, what + ": " + std::strerror(errno));
}

util::Bytes encode_key_file(const session::Identity& identity) {
  util::ByteWriter w;
  w.bytes(util::as_bytes(kKeyFileMagic));
  w.var8(util::as_bytes(identity.name));
  w.bytes(identity.signing.secret().view());
  w.bytes(identity.prekey.secret().view());
  w.bytes(identity.prekey_sig);
  return w.take();
}

}  // namespace

util::Result<Home> Home::resolve(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return Home(std::filesystem::absolute(*flag));
  if (const char* env = std::getenv("BACKCHANNEL_HOME"); env != nullptr && *env != '\0') {
    return Home(std::filesystem::absolute(env));
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return Home(std::filesystem::path(home) / ".backchannel");
  }
  return util::make_error(util::Errc::invalid_argument,
                          "no home folder: pass --home DIR or set BACKCHANNEL_HOME");
}

bool Home::has_identity() const {
  return std::filesystem::exists(identity_path());
}

util::Result<void> Home::create_identity(const session::Identity& identity) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return util::make_error(util::Errc::io, "cannot create " + dir_.string() + ": " + ec.message());
  ::chmod(dir_.c_str(), 0700);
  if (has_identity()) {
    return util::make_error(util::Errc::already_exists,
                            "an identity exists already in " + dir_.string() +
                                "; it is never overwritten (use another --home for a new party)");
  }
  util::Bytes content = encode_key_file(identity);
  auto written = util::write_private_file(identity_path(), content);
  crypto::wipe(content);
  return written;
}

util::Result<void> Home::replace_key_file(const session::Identity& identity) const {
  const auto next = dir_ / "identity.key.new";
  std::error_code ec;
  std::filesystem::remove(next, ec);  // a leftover of a crash in this step
  util::Bytes content = encode_key_file(identity);
  auto written = util::write_private_file(next, content);
  crypto::wipe(content);
  if (!written.ok()) return written;
  const int old_fd = ::open(identity_path().c_str(), O_RDWR | O_CLOEXEC);
  if (old_fd < 0) return io_error("cannot open " + identity_path().string());
  struct stat st {};
  const bool sized = ::fstat(old_fd, &st) == 0;
  if (::rename(next.c_str(), identity_path().c_str()) != 0) {
    ::close(old_fd);
    return io_error("cannot replace " + identity_path().string());
  }
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  // The replaced file is unlinked now but still ours through old_fd: its blocks are zeroed in
  // place so the retired prekey does not linger in free space (on a filesystem that writes in
  // place; copy-on-write filesystems and SSD remapping may keep old blocks all the same).
  // Only when no other name links it (a backup made with hard links, rsnapshot's say, keeps its
  // copy): zeroing then would destroy that backup's key.
  struct stat after {};
  const bool unlinked = ::fstat(old_fd, &after) == 0 && after.st_nlink == 0;
  if (sized && unlinked && st.st_size > 0) {
    const std::vector<char> zeros(static_cast<std::size_t>(st.st_size), 0);
    if (::pwrite(old_fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size())) ::fsync(old_fd);
  }
  ::close(old_fd);
  return {};
}

util::Result<session::Identity> Home::load_identity() const {
  const std::string path = identity_path().string();
  crypto::SecureBuffer buf;
  auto read = util::read_private_file(identity_path(), kMaxKeyFileSize, [&](std::size_t size) {
    buf = crypto::SecureBuffer(size);
    return buf.mutable_view();
  });
  if (!read.ok()) {
    if (read.error().code == util::Errc::not_found) {
      return util::make_error(util::Errc::not_found, "no identity in " + dir_.string() +
                                                         "; run: backchannel init --name NAME");
    }
    if (read.error().code == util::Errc::bad_format) {
      return util::make_error(util::Errc::bad_format, path + " is not an identity key file");
    }
    return read.error();
  }

  util::ByteReader r(buf.view());
  auto magic = r.bytes(kKeyFileMagic.size());
  std::string name = util::as_string(r.var8(session::kMaxNameLength));
  auto sign_secret = r.bytes(crypto::kSignSecretKeySize);
  auto dh_secret = r.bytes(crypto::kDhSecretKeySize);
  auto sig = r.array<crypto::kSignatureSize>();
  if (!r.done() || util::as_string(magic) != kKeyFileMagic) {
    return util::make_error(util::Errc::bad_format,
                            path + " is not an identity key file (damaged?)");
  }
  auto signing = crypto::SigningKey::from_secret(sign_secret);
  auto prekey = crypto::DhKeyPair::from_secret(dh_secret);
  if (!signing.ok() || !prekey.ok() || !session::check_name(name).ok() ||
      !session::verify_prekey(signing->public_key(), prekey->public_key(), sig)) {
    return util::make_error(util::Errc::bad_format, path + " holds inconsistent keys (damaged?)");
  }
  return session::Identity{std::move(name), std::move(*signing), std::move(*prekey), sig, {}};
}

util::Result<std::unique_ptr<store::Store>> Home::open_store(const session::Identity& identity) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return util::make_error(util::Errc::io, "cannot create " + dir_.string() + ": " + ec.message());
  // The store holds invitation secrets: create it private before SQLite opens it (SQLite gives
  // its -wal and -shm files the same mode).
  int fd = ::open(store_path().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open " + store_path().string());
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  // As the key file is: a store others can read gives them the messages, contacts and sealed
  // secrets (and its -wal and -shm files would be made as readable).
  if (stat_ok && (st.st_mode & 077) != 0) {
    const std::string p = store_path().string();
    return util::make_error(util::Errc::refused, p + " is readable by other users; run: chmod 600 " + p +
                                                     "*  (the -wal and -shm files too)");
  }
  auto key = store::StorageKey::derive(identity.signing.secret().view());
  if (!key.ok()) return key.error();
  return store::Store::open(store_path(), std::move(*key));
}

}  // namespace bc::node
