#include "relay/home.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "crypto/secure_buffer.h"
#include "util/byte_io.h"
#include "util/private_file.h"

namespace bc::relay {
namespace {

constexpr std::string_view kKeyFileMagic = "BCRLYKEY";
constexpr std::size_t kKeyFileSize = kKeyFileMagic.size() + crypto::kSignSecretKeySize;

}  // namespace

util::Result<Home> Home::resolve(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return Home(std::filesystem::absolute(*flag));
  if (const char* env = std::getenv("BACKCHANNEL_RELAY_HOME"); env != nullptr && *env != '\0') {
    return Home(std::filesystem::absolute(env));
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return Home(std::filesystem::path(home) / ".backchannel-relay");
  }
  return util::make_error(util::Errc::invalid_argument,
                          "no relay home folder: pass --home DIR or set BACKCHANNEL_RELAY_HOME");
}

bool Home::has_key() const {
  return std::filesystem::exists(key_path());
}

util::Result<crypto::SignPublicKey> Home::create_key() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return util::make_error(util::Errc::io, "cannot create " + dir_.string() + ": " + ec.message());
  ::chmod(dir_.c_str(), 0700);
  if (has_key()) {
    return util::make_error(util::Errc::already_exists,
                            "a relay key exists already in " + dir_.string() +
                                "; it is never overwritten (nodes pin it)");
  }
  if (std::filesystem::exists(dir_ / "identity.key")) {
    return util::make_error(util::Errc::refused,
                            dir_.string() + " is a node's home; a relay needs a folder of its own");
  }
  crypto::SigningKey key = crypto::SigningKey::generate();
  util::ByteWriter w;
  w.bytes(util::as_bytes(kKeyFileMagic));
  w.bytes(key.secret().view());
  util::Bytes content = w.take();
  auto written = util::write_private_file(key_path(), content);
  crypto::wipe(content);
  if (!written.ok()) return written.error();
  return key.public_key();
}

util::Result<crypto::SigningKey> Home::load_key() const {
  const std::string path = key_path().string();
  crypto::SecureBuffer buf;
  auto read = util::read_private_file(key_path(), kKeyFileSize, [&](std::size_t size) {
    buf = crypto::SecureBuffer(size);
    return buf.mutable_view();
  });
  if (!read.ok()) {
    if (read.error().code == util::Errc::not_found) {
      return util::make_error(util::Errc::not_found,
                              "no relay key in " + dir_.string() + "; run: backchannel relay init");
    }
    if (read.error().code == util::Errc::bad_format) {
      return util::make_error(util::Errc::bad_format, path + " is not a relay key file");
    }
    return read.error();
  }
  if (buf.size() != kKeyFileSize)
    return util::make_error(util::Errc::bad_format, path + " is not a relay key file");
  util::ByteView view = buf.view();
  if (util::as_string(view.first(kKeyFileMagic.size())) != kKeyFileMagic) {
    return util::make_error(util::Errc::bad_format, path + " is not a relay key file");
  }
  auto key = crypto::SigningKey::from_secret(view.subspan(kKeyFileMagic.size()));
  if (!key.ok()) return util::make_error(util::Errc::bad_format, path + " holds a damaged key");
  return std::move(*key);
}

void Home::write_listening(const std::string& host_port) const {
  std::ofstream out(listening_path(), std::ios::trunc);
  out << host_port << "\n";
}

std::optional<std::string> Home::read_listening() const {
  std::ifstream in(listening_path());
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) return std::nullopt;
  return line;
}

}  // namespace bc::relay
