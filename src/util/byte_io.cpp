#include "util/byte_io.h"

namespace bc::util {

void ByteWriter::u16(std::uint16_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::u32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

void ByteWriter::u64(std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

void ByteWriter::var8(ByteView v) {
  u8(static_cast<std::uint8_t>(v.size()));
  bytes(v);
}

void ByteWriter::var16(ByteView v) {
  u16(static_cast<std::uint16_t>(v.size()));
  bytes(v);
}

bool ByteReader::need(std::size_t n) {
  if (failed_ || in_.size() - pos_ < n) {
    failed_ = true;
    return false;
  }
  return true;
}

std::uint8_t ByteReader::u8() {
  if (!need(1)) return 0;
  return in_[pos_++];
}

std::uint16_t ByteReader::u16() {
  if (!need(2)) return 0;
  auto v = static_cast<std::uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t ByteReader::u32() {
  if (!need(4)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

std::uint64_t ByteReader::u64() {
  if (!need(8)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

ByteView ByteReader::bytes(std::size_t n) {
  if (!need(n)) return {};
  ByteView v = in_.subspan(pos_, n);
  pos_ += n;
  return v;
}

ByteView ByteReader::var8(std::size_t max) {
  std::size_t n = u8();
  if (n > max) failed_ = true;
  return failed_ ? ByteView{} : bytes(n);
}

ByteView ByteReader::var16(std::size_t max) {
  std::size_t n = u16();
  if (n > max) failed_ = true;
  return failed_ ? ByteView{} : bytes(n);
}

}  // namespace bc::util
