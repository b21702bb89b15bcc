#include "data/cdf_header.hpp"

#include <cstdint>
#include <fstream>

#include "common/error.hpp"

namespace climvae {

namespace {

// The header's grammar (NetCDF classic format specification, with CDF-5's 8-byte counts):
//   header = 'C' 'D' 'F' version numrecs dim_list gatt_list var_list
//   list   = ABSENT (0, 0) | tag nelems [item...];  name = nelems chars, padded to 4 bytes
//   dim    = name length;  attr = name type nelems values (padded);
//   var    = name nelems dimid... vatt_list type vsize begin
class HeaderReader {
 public:
  HeaderReader(const std::string& path, std::ifstream& in, uint64_t size, int version)
      : path_(path), in_(in), size_(size), wide_(version == 5), offset64_(version != 1) {}

  uint64_t word(int bytes, const char* what) {
    require(position_ + bytes <= size_, path_ + ": NetCDF header ends inside " + what + " (truncated or not NetCDF)");
    unsigned char b[8] = {};
    in_.read(reinterpret_cast<char*>(b), bytes);
    require(in_.good(), path_ + ": cannot read the NetCDF header");
    position_ += bytes;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b[i];  // big-endian
    return v;
  }
  uint64_t count(const char* what) { return word(wide_ ? 8 : 4, what); }
  // `n` items of at least `bytes` each must fit in what is left of the file.
  void fits(uint64_t n, uint64_t bytes, const char* what) {
    const uint64_t left = size_ - position_;
    require(bytes == 0 || n <= left / bytes,
            path_ + ": NetCDF header announces " + std::to_string(n) + " " + what + " at byte " +
                std::to_string(position_) + ", more than the file's " + std::to_string(size_) +
                " bytes can hold (a corrupt file)");
  }
  void skip(uint64_t bytes, const char* what) {
    fits(bytes, 1, what);
    in_.seekg(static_cast<std::streamoff>(bytes), std::ios::cur);
    position_ += bytes;
  }
  void name() {
    const uint64_t n = count("a name's length");
    skip((n + 3) / 4 * 4, "name characters");
  }
  // A list's length after its tag (0 and 0 when absent).
  uint64_t list(uint32_t tag, uint64_t smallest_item, const char* what) {
    const uint64_t t = word(4, what), n = count(what);
    require((t == 0 && n == 0) || t == tag, path_ + ": NetCDF header has a bad tag in its " + what);
    fits(n, smallest_item, what);
    return n;
  }
  void attributes() {
    const int count_bytes = wide_ ? 8 : 4;
    const uint64_t n = list(0x0C, count_bytes + 4 + 4 + count_bytes, "attribute list");
    for (uint64_t i = 0; i < n; ++i) {
      name();
      const uint64_t type = word(4, "an attribute's type");
      static const int kBytes[] = {0, 1, 1, 2, 4, 4, 8, 1, 2, 4, 8, 8};  // NC_BYTE .. NC_UINT64
      require(type >= 1 && type <= (wide_ ? 11u : 6u), path_ + ": NetCDF header has an attribute of unknown type " + std::to_string(type));
      const uint64_t values = count("an attribute's length");
      fits(values, kBytes[type], "attribute values");
      skip((values * kBytes[type] + 3) / 4 * 4, "attribute values");
    }
  }
  void check() {
    count("the record count");
    const int count_bytes = wide_ ? 8 : 4;
    const uint64_t dims = list(0x0A, count_bytes + 4 + count_bytes, "dimension list");
    for (uint64_t i = 0; i < dims; ++i) name(), count("a dimension's length");
    attributes();
    const uint64_t vars = list(0x0B, 3 * count_bytes + 8 + 4 + count_bytes, "variable list");
    for (uint64_t i = 0; i < vars; ++i) {
      name();
      const uint64_t rank = count("a variable's dimension count");
      fits(rank, count_bytes, "dimension ids");
      for (uint64_t d = 0; d < rank; ++d)
        require(count("a dimension id") < dims, path_ + ": NetCDF header names a dimension it does not define");
      attributes();
      word(4, "a variable's type");
      count("a variable's size");
      word(offset64_ ? 8 : 4, "a variable's offset");
    }
  }

 private:
  const std::string& path_;
  std::ifstream& in_;
  uint64_t size_, position_ = 4;
  bool wide_, offset64_;
};

}  // namespace

void check_cdf_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in.good()) return;  // the caller names a missing or unreadable file
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  char magic[4] = {};
  in.seekg(0);
  if (size < 4 || !in.read(magic, 4) || magic[0] != 'C' || magic[1] != 'D' || magic[2] != 'F') return;
  if (magic[3] != 1 && magic[3] != 2 && magic[3] != 5) return;
  HeaderReader(path, in, size, magic[3]).check();
}

}  // namespace climvae
