// Call before any other crypto function. libsodium's own initialisation is idempotent and
// thread-safe, so every entry point of this module calls it and no global state of ours exists.
#pragma once

namespace bc::crypto {

void ensure_initialized();

}  // namespace bc::crypto
