// commit_file and write_file_atomically: a finished file never replaces one that exists at the
// moment of the move unless allowed, nothing is lost on either side, and stale temporaries of
// killed runs are cleaned up.
#include <gtest/gtest.h>

#include <algorithm>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/file_io.hpp"
#include "test_support.hpp"

using namespace climvae;
using climvae::testing::error_message;
using climvae::testing::SharedDirectory;

namespace {

std::string content_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A pid that belonged to a process that has exited and been reaped.
long long gone_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

}  // namespace

TEST(FileIo, CommitRefusesAnExistingFileAndKeepsIt) {
  SharedDirectory dir("climvae-file-io");
  const std::string path = dir / "result.txt", tmp = temporary_path(path, ::getpid());
  write_text(path, "first run");
  write_text(tmp, "second run");
  const std::string message = error_message([&] { commit_file(tmp, path, false); });
  EXPECT_NE(message.find("'" + path + "' exists"), std::string::npos) << message;
  EXPECT_NE(message.find("--overwrite"), std::string::npos) << message;
  EXPECT_EQ(content_of(path), "first run");
  EXPECT_FALSE(std::filesystem::exists(tmp));

  write_text(tmp, "second run");
  commit_file(tmp, path, true);
  EXPECT_EQ(content_of(path), "second run");
  EXPECT_FALSE(std::filesystem::exists(tmp));
}

TEST(FileIo, AFileMadeWhileWritingIsNotReplaced) {
  SharedDirectory dir("climvae-file-io");
  const std::string path = dir / "model.bin";
  // Another run finishes `path` while this one is still writing its temporary.
  const std::string message = error_message([&] {
    write_file_atomically(path, "model file", false, [&](std::ostream& out) {
      write_text(path, "the other run's result");
      out << "this run's result";
    });
  });
  EXPECT_NE(message.find("model file: '" + path + "' exists"), std::string::npos) << message;
  EXPECT_EQ(content_of(path), "the other run's result");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.bin"});  // no temporary left behind

  write_file_atomically(path, "model file", true, [](std::ostream& out) { out << "replaced"; });
  EXPECT_EQ(content_of(path), "replaced");
}

TEST(FileIo, StaleTemporariesOfStoppedRunsAreRemoved) {
  SharedDirectory dir("climvae-file-io");
  const std::string path = dir / "out.nc";
  const std::string stale = temporary_path(path, gone_pid()), live = temporary_path(path, ::getpid());
  write_text(stale, "partial");
  write_text(live, "in progress");
  write_text(dir / "out.nc.tmp-notapid", "someone else's");
  // Another node of a cluster writing to the same shared directory: its pid means nothing here.
  const std::string other_host = path + ".tmp-othernode.example-" + std::to_string(gone_pid());
  write_text(other_host, "another node's run");
  const std::string old_style = path + ".tmp-" + std::to_string(gone_pid());  // from older versions
  write_text(old_style, "partial");
  std::vector<std::string> removed = remove_stale_temporaries(path);
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{stale, old_style};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(dir / "out.nc.tmp-notapid"));
  EXPECT_TRUE(std::filesystem::exists(other_host));
}
