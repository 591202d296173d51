// Envelope layout constants (protocol spec values; see docs/protocol.md "Envelope").
// Every channel carries envelopes of exactly kEnvelopeSize bytes. The session module seals a
// payload of exactly kEnvelopePayloadSize bytes into one envelope; the frame codec fills that
// payload with frames and pads the rest with PADDING.
#pragma once

#include <cstddef>

namespace bc::wire {

inline constexpr std::size_t kEnvelopeSize = 2048;

// The session module owns the split between header and body; these are its figures.
inline constexpr std::size_t kHeaderNonceSize = 24;
inline constexpr std::size_t kHeaderPlainSize = 40;   // ratchet public key 32, PN 4, N 4
inline constexpr std::size_t kAeadTag = 16;
inline constexpr std::size_t kEncryptedHeaderSize = kHeaderNonceSize + kHeaderPlainSize + kAeadTag;
inline constexpr std::size_t kEnvelopePayloadSize = kEnvelopeSize - kEncryptedHeaderSize - kAeadTag;

static_assert(kEnvelopePayloadSize == 1952);

}  // namespace bc::wire
