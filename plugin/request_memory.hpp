// Inside libclimvae only (not installed, not exported): what bmi.cpp asks plugin.cpp about a
// request's memory before it allocates its own buffers.
#pragma once
#include <cstddef>
#include <cstdint>

#include "climvae.h"

namespace climvae_plugin {

// About the bytes climvae_generate takes for `members` traces of `hours` hours on this handle,
// the caller's buffer not counted (climvae::generation_bytes).
size_t generation_bytes(const climvae_model* model, int64_t hours, int members);

}  // namespace climvae_plugin
