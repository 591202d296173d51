#include "crypto/sodium.h"

#include <sodium.h>

#include <stdexcept>

namespace bc::crypto {

void ensure_initialized() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

}  // namespace bc::crypto
