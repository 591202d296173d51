// The home folder of a node: where its identity key, store, config and control socket live.
//
//   <home>/identity.key     Ed25519 + X25519 secret keys, mode 0600, written by `init` and
//                           rewritten with the current prekey after each prekey rotation
//   <home>/store.db         the SQLite store (plus -wal and -shm files)
//   <home>/backchannel.toml settings (optional)
//   <home>/control.sock     the running node's control socket, mode 0600
//
// The folder is chosen by --home, else $BACKCHANNEL_HOME, else ~/.backchannel.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "session/identity.h"
#include "store/store.h"
#include "util/result.h"

namespace bc::node {

class Home {
 public:
  // flag: the --home value, if given.
  static util::Result<Home> resolve(const std::optional<std::string>& flag);
  explicit Home(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path identity_path() const { return dir_ / "identity.key"; }
  std::filesystem::path store_path() const { return dir_ / "store.db"; }
  std::filesystem::path config_path() const { return dir_ / "backchannel.toml"; }
  std::filesystem::path control_socket_path() const { return dir_ / "control.sock"; }

  bool has_identity() const;
  // Creates the folder (0700) and the identity; refuses when one exists already.
  util::Result<void> create_identity(const session::Identity& identity);
  // After a prekey rotation (node/prekey_ring.h): identity.key is rewritten whole to hold the
  // current prekey (a new file linked into place), and the replaced file's bytes are overwritten
  // with zeros through a handle kept open across the rename, so the retired prekey's secret is
  // left only in the store (sealed) for its grace. A crash leaves the old file or the new one.
  util::Result<void> replace_key_file(const session::Identity& identity) const;
  // Refuses a key file that others can read, or that is malformed.
  util::Result<session::Identity> load_identity() const;
  // Opens the store with the storage key derived from identity (store/storage_key.h), which
  // seals its session states and invitation secrets: every reader and writer of them opens the
  // store here.
  util::Result<std::unique_ptr<store::Store>> open_store(const session::Identity& identity) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace bc::node
