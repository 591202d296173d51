// The relay's home folder: its Ed25519 identity key (also its TLS key), its database and its
// config. A different folder from any node's home: a relay has no party, no contacts.
//
//   <home>/relay.key    the identity key, mode 0600, never overwritten
//   <home>/relay.db     mailboxes, items and admission tokens (SQLite, WAL)
//   <home>/relay.toml   settings (config.h), optional
//   <home>/listening    "HOST:PORT" of the last `relay run`, for `relay info`
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "crypto/sign.h"
#include "util/result.h"

namespace bc::relay {

class Home {
 public:
  // The --home flag, else $BACKCHANNEL_RELAY_HOME, else ~/.backchannel-relay.
  static util::Result<Home> resolve(const std::optional<std::string>& flag);
  explicit Home(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path key_path() const { return dir_ / "relay.key"; }
  std::filesystem::path db_path() const { return dir_ / "relay.db"; }
  std::filesystem::path config_path() const { return dir_ / "relay.toml"; }
  std::filesystem::path listening_path() const { return dir_ / "listening"; }

  bool has_key() const;
  // Creates the folder (0700) and a new key; refuses when a key exists.
  util::Result<crypto::SignPublicKey> create_key();
  util::Result<crypto::SigningKey> load_key() const;

  // Written by `relay run` once it listens; read by `relay info`.
  void write_listening(const std::string& host_port) const;
  std::optional<std::string> read_listening() const;

 private:
  std::filesystem::path dir_;
};

}  // namespace bc::relay
