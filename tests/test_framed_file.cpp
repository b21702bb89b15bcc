// The container of the model file and the checkpoint: its exact bytes, and a clear error naming
// the file for each way it can be damaged.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_io.hpp"
#include "common/framed_file.hpp"
#include "test_support.hpp"

using namespace climvae;
using climvae::testing::error_message;
using climvae::testing::SharedDirectory;

namespace {

const FramedFormat kFormat{"climvae-test", "test file", "test file", 2};
const std::vector<float> kFirst = {1.5f, -2.25f, 3e-7f}, kSecond = {42.0f};

std::string content_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string bytes_of(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

void write_example(const std::string& path) {
  write_framed_file(kFormat, path, true, "name alpha\nfirst 3\n",
                    {{kFirst.data(), kFirst.size()}, {kSecond.data(), kSecond.size()}});
}

// A format with two keys: "name WORD" and "first COUNT" (the size of the first block).
struct Example {
  std::vector<std::string> lines;
  std::vector<float> first, second;
};

Example read_example(const std::string& path) {
  FramedReader file(kFormat, path);
  Example e;
  size_t first = 0;
  for (std::string line; file.next_line(line);) {
    std::istringstream f(line);
    std::string key, word;
    f >> key;
    file.check_line((key == "name" && f >> word) || (key == "first" && f >> first), line);
    e.lines.push_back(line);
  }
  e.first = file.read_block(first, "first");
  e.second = file.read_block(1, "second");
  file.finish();
  return e;
}

}  // namespace

TEST(FramedFile, WritesTheDocumentedLayoutAndReadsItBack) {
  SharedDirectory dir("climvae-framed");
  const std::string path = dir / "example";
  write_example(path);
  const std::string header = "climvae-test 2\nname alpha\nfirst 3\n";
  uint32_t crc = crc32(header.data(), header.size());
  crc = crc32(kFirst.data(), kFirst.size() * sizeof(float), crc);
  crc = crc32(kSecond.data(), kSecond.size() * sizeof(float), crc);
  char crc_line[32];
  std::snprintf(crc_line, sizeof crc_line, "crc32 %08x\n", crc);
  EXPECT_EQ(content_of(path), header + crc_line + "end-header\n" + bytes_of(kFirst) + bytes_of(kSecond));

  const Example e = read_example(path);
  EXPECT_EQ(e.lines, (std::vector<std::string>{"name alpha", "first 3"}));
  EXPECT_EQ(e.first, kFirst);
  EXPECT_EQ(e.second, kSecond);
}

TEST(FramedFile, EachDamageGivesAClearErrorNamingTheFile) {
  SharedDirectory dir("climvae-framed");
  const std::string path = dir / "example";
  write_example(path);
  const std::string good = content_of(path);
  const size_t end = good.find("end-header\n"), crc_at = good.find("crc32 ");
  const auto refused = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_message([&] { read_example(path); });
  };
  const std::string where = "test file '" + path + "'";

  std::string flipped = good;
  flipped[flipped.size() - 2] ^= 0x10;  // inside the second block
  EXPECT_EQ(refused(flipped).rfind(where + " is corrupt: checksum ", 0), 0u) << refused(flipped);
  std::string renamed = good;
  renamed.replace(renamed.find("alpha"), 5, "gamma");  // a header line is checksummed too
  EXPECT_NE(refused(renamed).find("is corrupt: checksum"), std::string::npos);

  EXPECT_EQ(refused(good.substr(0, good.size() - 6)), where + " is truncated: 10 of 12 first bytes present");
  EXPECT_EQ(refused(good.substr(0, good.size() - 2)), where + " is truncated: 2 of 4 second bytes present");
  EXPECT_EQ(refused(good + "x"), where + " has trailing bytes after its last block (corrupt file)");

  EXPECT_EQ(refused(good.substr(0, end)), where + " is truncated: the header has no 'end-header' line");
  EXPECT_EQ(refused(good.substr(0, end + 5)), where + " is truncated inside header line 5");
  EXPECT_EQ(refused(good.substr(0, crc_at) + good.substr(end)), where + " has no checksum line");

  EXPECT_EQ(refused("CDF\x02 a netcdf file"), where + " is not a climvae test file (first line 'CDF\x02 a netcdf file')");
  std::string newer = good;
  newer.replace(0, 14, "climvae-test 3");
  EXPECT_EQ(refused(newer), where + " has format version 3; this climvae reads up to 2");
  std::string unknown = good;
  unknown.replace(unknown.find("name"), 4, "nome");
  EXPECT_EQ(refused(unknown), where + ": unreadable header line 2: 'nome alpha'");
  // A damaged count asks for more than the file holds: refused before anything is allocated.
  std::string huge = good;
  huge.replace(huge.find("first 3"), 7, "first 999999999999999999");
  EXPECT_EQ(refused(huge).rfind(where + " is truncated: 16 of ", 0), 0u) << refused(huge);
  const std::string missing = dir / "missing";
  EXPECT_EQ(error_message([&] { read_example(missing); }), "cannot open test file '" + missing + "'");
}
