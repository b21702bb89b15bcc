// What the files climvae writes itself (model, checkpoint) share: a CRC-32 over their bytes and
// an atomic replacement, so that an interrupted write never leaves a file that looks complete.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace climvae {

// CRC-32 (IEEE, as zlib): crc32(b, n, crc32(a, m)) is the CRC of a followed by b.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

// Writes PATH.tmp-<pid> with `write`, then renames it to PATH. On any failure the temporary is
// removed and Error names `what` (e.g. "model file") and the path.
void write_file_atomically(const std::string& path, const std::string& what,
                           const std::function<void(std::ostream&)>& write);

}  // namespace climvae
