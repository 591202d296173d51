// Skipped message keys (MKSKIPPED of the spec), indexed by (header key, N) as in the header
// encryption variant. Bounded per chain (kMaxSkipPerChain), in chains (kMaxSkippedChains) and
// in total (kMaxSkippedTotal); each key carries an expiry time, after which it is ignored and
// dropped at the next successful receive. A value: clone() copies it (secrets included).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/clock.h"

namespace bc::session {

class SkippedKeys {
 public:
  struct Key {
    crypto::SecureBuffer message_key;
    util::WallTime expires_at;
  };
  struct Chain {
    crypto::SecureBuffer header_key;
    std::map<std::uint32_t, Key> keys;  // by N
  };

  SkippedKeys() = default;
  SkippedKeys(SkippedKeys&&) noexcept = default;
  SkippedKeys& operator=(SkippedKeys&&) noexcept = default;
  SkippedKeys clone() const;

  const std::vector<Chain>& chains() const { return chains_; }
  std::size_t size() const;

  // The message key for (chains()[chain], n) unless absent or expired at now.
  const crypto::SecureBuffer* find(std::size_t chain, std::uint32_t n, util::WallTime now) const;
  // Called only when the envelope under that key was authenticated: a key opens one envelope.
  void erase(std::size_t chain, std::uint32_t n);
  // Adds a key (replacing an equal (header key, n)); call enforce_limits() after a batch.
  void insert(util::ByteView header_key, std::uint32_t n, crypto::SecureBuffer message_key,
              util::WallTime expires_at);
  // Drops expired keys, then the keys that expire first beyond each bound.
  void enforce_limits(util::WallTime now);

 private:
  std::vector<Chain> chains_;
};

}  // namespace bc::session
