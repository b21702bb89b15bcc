// The container shared by the model file and the checkpoint:
//   MAGIC VERSION       which format, which version of it
//   KEY VALUES...       the format's own header lines, one per '\n'
//   crc32 XXXXXXXX      CRC-32 of the other header lines (with their '\n') and the float blocks
//   end-header
//   float32 blocks      back to back, native byte order; nothing may follow the last one
// This module frames; each format chooses its keys and how it writes numbers into them (the
// model file 17 significant digits, the checkpoint hexadecimal floating point).
#pragma once
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace climvae {

struct FramedFormat {
  std::string magic;  // the first word of the file, e.g. "climvae-model"
  std::string noun;   // in "... is not a climvae <noun>"
  std::string what;   // names the file in messages: "<what> 'PATH'", e.g. "model file"
  int version = 1;    // written; reading accepts 1..version
};

struct FloatBlock {
  const float* data;
  size_t count;
};

// Writes the framed file atomically (write_file_atomically: an existing PATH is replaced only
// with `replace`). `header` holds the format's lines after the magic line, each ending in '\n'.
void write_framed_file(const FramedFormat& format, const std::string& path, bool replace, const std::string& header,
                       const std::vector<FloatBlock>& blocks);

// Reads a framed file in order: the constructor the magic line, next_line() each header line,
// read_block() each float block, finish() the end. Every check throws Error starting with
// where(): "<what> 'PATH'".
class FramedReader {
 public:
  // Opens PATH and checks its magic word and version.
  FramedReader(const FramedFormat& format, const std::string& path);

  const std::string& where() const { return where_; }
  int version() const { return version_; }

  // The next header line (the checksum line is kept aside); false at the end marker, once the
  // checksum line has been seen. Throws on a truncated or endless header.
  bool next_line(std::string& line);
  // Throws "<where>: unreadable header line N: 'LINE'" unless `ok`: the format's verdict on the
  // line next_line() returned last.
  void check_line(bool ok, const std::string& line) const;

  // The next `count` floats; `name` says what they are if the file ends first.
  std::vector<float> read_block(size_t count, const std::string& name);
  // Refuses bytes after the last block and a checksum that does not match.
  void finish();

 private:
  std::ifstream in_;
  std::string where_;
  int version_ = 0;
  int line_number_ = 0;
  std::string header_;    // the checksummed header lines
  std::string crc_text_;  // as recorded in the file
  uint32_t crc_ = 0;      // of the header and the blocks read so far
};

}  // namespace climvae
