#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <cstring>
#include <new>
#include <utility>

#include "crypto/sodium.h"

namespace bc::crypto {

SecureBuffer::SecureBuffer(std::size_t size) : size_(size) {
  ensure_initialized();
  if (size == 0) return;
  data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) throw std::bad_alloc();
  sodium_memzero(data_, size);
}

SecureBuffer::SecureBuffer(util::ByteView content) : SecureBuffer(content.size()) {
  if (!content.empty()) std::memcpy(data_, content.data(), content.size());
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) sodium_free(data_);  // zeroes before freeing
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool SecureBuffer::equals(util::ByteView other) const {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data(), size_) == 0;
}

void wipe(util::MutableByteView bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

}  // namespace bc::crypto
