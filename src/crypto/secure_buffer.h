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

}  // namespace bc::crypto
