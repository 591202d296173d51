// Skipped message keys (MKSKIPPED of the spec), indexed by (header key, N) as in the header
// encryption variant. Bounded per chain (kMaxSkipPerChain, the newest kept), in chains
// (kMaxSkippedChains) and in total (kMaxSkippedTotal); each key carries an expiry time, after
// which it is ignored and dropped at the next successful receive. A value: clone() copies it
// (secrets included).
//
// The message keys live in one guarded slab (a SecureBuffer of fixed-size slots, grown by
// doubling) rather than one guarded allocation each: a sodium_malloc per key cost an mmap,
// mprotect and mlock, i.e. several pages per 32-byte key. A freed slot is wiped at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/clock.h"

namespace bc::session {

class SkippedKeys {
 public:
  struct Key {
    std::uint32_t slot;  // index into the slab; message_key() reads it
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
  // The 32-byte message key of an entry of chains().
  util::ByteView message_key(const Key& key) const;

  // The message key for (chains()[chain], n) unless absent or expired at now. The view is valid
  // until the next call that changes this object.
  std::optional<util::ByteView> find(std::size_t chain, std::uint32_t n, util::WallTime now) const;
  // Called only when the envelope under that key was authenticated: a key opens one envelope.
  void erase(std::size_t chain, std::uint32_t n);
  // Adds a key (replacing an equal (header key, n)); call enforce_limits() after a batch.
  void insert(util::ByteView header_key, std::uint32_t n, util::ByteView message_key,
              util::WallTime expires_at);
  // Drops expired keys, then the keys that expire first beyond each bound.
  void enforce_limits(util::WallTime now);

 private:
  std::uint32_t take_slot();
  void release_slot(std::uint32_t slot);  // wipes it
  // Erases an entry of chains_[chain].keys and releases its slot.
  std::map<std::uint32_t, Key>::iterator erase_key(Chain& chain, std::map<std::uint32_t, Key>::iterator it);

  std::vector<Chain> chains_;
  crypto::SecureBuffer slab_;           // slot i holds bytes [32 i, 32 i + 32)
  std::vector<std::uint32_t> free_;     // free slots of slab_
};

}  // namespace bc::session
