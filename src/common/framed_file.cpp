#include "common/framed_file.hpp"

#include <cstdio>
#include <sstream>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace climvae {

namespace {

constexpr const char* kChecksumKey = "crc32";
constexpr const char* kEndOfHeader = "end-header";
// A header this long is garbage read as lines (a model's header has a few lines per cell).
constexpr int kMaxHeaderLines = 100000;

std::string crc_text(uint32_t crc) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", crc);
  return text;
}

// `path`, once require_regular_input has passed it: a FIFO would block the open for ever.
const std::string& regular_input(const std::string& path, const std::string& what) {
  require_regular_input(path, what);
  return path;
}

}  // namespace

void write_framed_file(const FramedFormat& format, const std::string& path, bool replace, const std::string& header,
                       const std::vector<FloatBlock>& blocks) {
  const std::string checksummed = format.magic + " " + std::to_string(format.version) + "\n" + header;
  uint32_t crc = crc32(checksummed.data(), checksummed.size());
  for (const FloatBlock& b : blocks) crc = crc32(b.data, b.count * sizeof(float), crc);
  write_file_atomically(path, format.what, replace, [&](std::ostream& out) {
    out << checksummed << kChecksumKey << " " << crc_text(crc) << "\n" << kEndOfHeader << "\n";
    for (const FloatBlock& b : blocks)
      out.write(reinterpret_cast<const char*>(b.data), static_cast<std::streamsize>(b.count * sizeof(float)));
  });
}

FramedReader::FramedReader(const FramedFormat& format, const std::string& path)
    : in_(regular_input(path, format.what), std::ios::binary), where_(format.what + " '" + path + "'") {
  require(in_.good(), "cannot open " + format.what + " '" + path + "'");
  std::string line;
  require(static_cast<bool>(std::getline(in_, line)),
          where_ + " is truncated: the header has no '" + kEndOfHeader + "' line");
  line_number_ = 1;
  std::istringstream first(line);
  std::string magic;
  first >> magic >> version_;
  require(magic == format.magic,
          where_ + " is not a climvae " + format.noun + " (first line '" + line.substr(0, 40) + "')");
  require(version_ >= 1 && version_ <= format.version,
          where_ + " has format version " + std::to_string(version_) + "; this climvae reads up to " +
              std::to_string(format.version));
  require(!in_.eof(), where_ + " is truncated inside header line 1");
  header_ = line + "\n";
}

bool FramedReader::next_line(std::string& line) {
  for (;;) {
    require(static_cast<bool>(std::getline(in_, line)),
            where_ + " is truncated: the header has no '" + kEndOfHeader + "' line");
    ++line_number_;
    require(!in_.eof(), where_ + " is truncated inside header line " + std::to_string(line_number_));
    if (line == kEndOfHeader) {
      require(!crc_text_.empty(), where_ + " has no checksum line");
      crc_ = crc32(header_.data(), header_.size());
      return false;
    }
    require(line_number_ < kMaxHeaderLines, where_ + ": header never ends (corrupt file)");
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key != kChecksumKey) {
      header_ += line + "\n";
      return true;
    }
    f >> crc_text_;  // the checksum line itself is not checksummed
  }
}

void FramedReader::check_line(bool ok, const std::string& line) const {
  require(ok, where_ + ": unreadable header line " + std::to_string(line_number_) + ": '" + line.substr(0, 80) + "'");
}

std::vector<float> FramedReader::read_block(size_t count, const std::string& name) {
  // Measured before allocating: a damaged count must not ask for more memory than the file holds.
  const std::streamoff at = in_.tellg();
  in_.seekg(0, std::ios::end);
  const std::streamoff left = in_.tellg() - at;
  in_.seekg(at);
  require(in_.good() && at >= 0 && left >= 0, "cannot read " + where_);
  require(count <= static_cast<uint64_t>(left) / sizeof(float),
          where_ + " is truncated: " + std::to_string(left) + " of " + std::to_string(count * sizeof(float)) + " " +
              name + " bytes present");
  std::vector<float> values(count);
  const auto bytes = static_cast<std::streamsize>(count * sizeof(float));
  in_.read(reinterpret_cast<char*>(values.data()), bytes);
  require(in_.gcount() == bytes, "cannot read " + where_);
  crc_ = crc32(values.data(), static_cast<size_t>(bytes), crc_);
  return values;
}

void FramedReader::finish() {
  char extra = 0;
  require(!in_.read(&extra, 1), where_ + " has trailing bytes after its last block (corrupt file)");
  const std::string crc_now = crc_text(crc_);
  require(crc_text_ == crc_now,
          where_ + " is corrupt: checksum " + crc_now + " does not match the recorded " + crc_text_);
}

}  // namespace climvae
