// Encoding and strict parsing of frames. Pure functions: no I/O, no state. A payload that
// breaks any rule is refused whole, so a caller never acts on part of a bad payload.
#pragma once

#include <cstddef>
#include <vector>

#include "util/byte_io.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::wire {

// The rules every frame obeys, checked on both sides: the parser refuses what breaks them,
// the encoder refuses to write it. Errors: bad_format for broken rules, limit for sizes and
// counts over the spec limits.
util::Result<void> validate_frame(const Frame& frame);

// Bytes encode_frame writes for a valid frame.
std::size_t encoded_size(const Frame& frame);

// Appends the frame; on error writes nothing.
util::Result<void> encode_frame(const Frame& frame, util::ByteWriter& out);
util::Result<util::Bytes> encode_frame(const Frame& frame);

// The exact form: every frame including runs of PADDING, for any input length, such that
// encoding the frames in order gives back the input byte for byte.
util::Result<std::vector<Frame>> parse_frames(util::ByteView in);

// A decrypted envelope payload: exactly kEnvelopePayloadSize bytes; returns its frames
// without PADDING. Errors: bad_format (unknown type, broken rule, wrong payload size),
// truncated (a frame runs past the end), limit (a length or count over its limit).
util::Result<std::vector<Frame>> parse_payload(util::ByteView payload);

// The length of the PADDING run that ends payload (0 when a frame ends it or it does not parse):
// the room another frame may take without moving any frame already there.
std::size_t trailing_padding(util::ByteView payload);

}  // namespace bc::wire
