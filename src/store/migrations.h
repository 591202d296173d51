// The schema as an ordered list of forward migrations. Migration i (0-based) moves the file
// from user_version i to i + 1. Never edit a migration that has shipped: append a new one.
#pragma once

#include <span>
#include <string_view>

namespace bc::store {

std::span<const std::string_view> migrations();

}  // namespace bc::store
