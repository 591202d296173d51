// A fixed-size buffer for secrets in libsodium's guarded allocation: locked in RAM (never
// swapped), fenced by guard pages, and zeroed when freed. Move-only; copying a secret must be
// explicit (copy()).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"

namespace bc::crypto {

class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(std::size_t size);
  SecureBuffer(util::ByteView content);  // NOLINT: implicit from bytes is convenient and safe
  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  SecureBuffer copy() const { return SecureBuffer(view()); }

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  util::ByteView view() const { return {data_, size_}; }
  util::MutableByteView mutable_view() { return {data_, size_}; }

  // Constant-time comparison.
  bool equals(util::ByteView other) const;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Overwrites memory that held a secret outside a SecureBuffer (a stack array, a vector).
void wipe(util::MutableByteView bytes);

// A fixed-size secret on the stack, for per-message temporaries that live for one call (a chain
// step, a message key, a body key): a SecureBuffer costs an mmap, mprotect and mlock each, which
// dominated seal/open. Wiped when it goes out of scope, on every path including exceptions. Not
// locked in RAM and not guarded: secrets that persist in a state stay in SecureBuffer.
template <std::size_t N>
class SecretArray {
 public:
  SecretArray() = default;
  ~SecretArray() { wipe(bytes_); }
  SecretArray(const SecretArray&) = delete;
  SecretArray& operator=(const SecretArray&) = delete;

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  util::ByteView view() const { return bytes_; }
  util::MutableByteView mutable_view() { return bytes_; }

 private:
  util::ByteArray<N> bytes_{};
};

}  // namespace bc::crypto
