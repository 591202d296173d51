// Big-endian writer and a bounds-checked reader for every binary codec of the project.
//
// ByteReader never reads past its input: a short read sets a sticky failure flag and yields
// zeros, so a codec can read a whole structure and check failed() once at the end.
#pragma once

#include <cstdint>
#include <string>

#include "util/bytes.h"

namespace bc::util {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void bytes(ByteView v) { append(out_, v); }
  // Length-prefixed (u8) and (u16) byte strings; callers check the limit first.
  void var8(ByteView v);
  void var16(ByteView v);

  std::size_t size() const { return out_.size(); }
  Bytes& buffer() { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}

  std::uint8_t u8();
  std::uint16_t u16();
  std::uint32_t u32();
  std::uint64_t u64();
  // A view of the next n bytes; empty and failed when fewer remain.
  ByteView bytes(std::size_t n);
  // Length-prefixed byte strings; failed when the prefix exceeds max or the input.
  ByteView var8(std::size_t max);
  ByteView var16(std::size_t max);
  template <std::size_t N>
  ByteArray<N> array() {
    return to_array<N>(bytes(N));
  }

  std::size_t remaining() const { return failed_ ? 0 : in_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool failed() const { return failed_; }
  // True when every byte was consumed and no read failed: codecs refuse trailing bytes.
  bool done() const { return !failed_ && pos_ == in_.size(); }

 private:
  bool need(std::size_t n);

  ByteView in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace bc::util
