#include "train/checkpoint.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace climvae {

namespace {

constexpr const char* kMagic = "climvae-checkpoint";
constexpr const char* kEndOfHeader = "end-header";

// Hexadecimal floating point: exact on the round trip, and "inf" for a best loss not yet set.
std::string exact(double v) {
  std::ostringstream s;
  s << std::hexfloat << v;
  return s.str();
}

std::string header_of(const Checkpoint& c) {
  const TrainState& s = c.state;
  std::ostringstream h;
  h << kMagic << " " << kCheckpointFormatVersion << "\n";
  for (const auto& [name, value] : c.settings) {
    require(name.find_first_of(" \n") == std::string::npos && value.find('\n') == std::string::npos,
            "checkpoint settings must be single-line, name without spaces: '" + name + "'");
    h << "setting " << name << " " << value << "\n";
  }
  h << "epoch " << s.epoch << "\nnext_window " << s.next_window << "\nadam_steps " << s.adam_steps << "\n"
    << "loss_sums " << exact(s.loss_sums[0]) << " " << exact(s.loss_sums[1]) << " " << exact(s.loss_sums[2]) << "\n"
    << "best_epoch " << s.best_epoch << "\nbest_loss " << exact(s.best_loss) << "\n"
    << "epochs_without_improvement " << s.epochs_without_improvement << "\nseconds " << exact(s.seconds) << "\n"
    << "parameters " << c.parameters.size() << "\n";
  return h.str();
}

const std::vector<float>* buffers_of(const Checkpoint& c, int i) {
  const std::vector<float>* all[4] = {&c.parameters, &c.adam_m, &c.adam_v, &c.best_parameters};
  return all[i];
}

// The checkpoints this process may replace (guarded: the library may be used from several threads).
std::mutex replaceable_mutex;
std::set<std::string> replaceable;

bool may_replace(const std::string& path) {
  std::lock_guard<std::mutex> lock(replaceable_mutex);
  return replaceable.count(path) > 0;
}

}  // namespace

void allow_checkpoint_replacement(const std::string& path) {
  std::lock_guard<std::mutex> lock(replaceable_mutex);
  replaceable.insert(path);
}

void save_checkpoint(const Checkpoint& c, const std::string& path) {
  const size_t n = c.parameters.size();
  for (int i = 0; i < 4; ++i) require(buffers_of(c, i)->size() == n, "checkpoint buffers differ in size");
  const std::string header = header_of(c);
  uint32_t crc = crc32(header.data(), header.size());
  for (int i = 0; i < 4; ++i) crc = crc32(buffers_of(c, i)->data(), n * sizeof(float), crc);
  char crc_text[16];
  std::snprintf(crc_text, sizeof crc_text, "%08x", crc);
  write_file_atomically(path, "checkpoint", may_replace(path), [&](std::ostream& out) {
    out << header << "crc32 " << crc_text << "\n" << kEndOfHeader << "\n";
    for (int i = 0; i < 4; ++i)
      out.write(reinterpret_cast<const char*>(buffers_of(c, i)->data()),
                static_cast<std::streamsize>(n * sizeof(float)));
  });
  allow_checkpoint_replacement(path);  // this run's own checkpoint: later saves replace it
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open checkpoint '" + path + "'");
  const std::string where = "checkpoint '" + path + "'";
  Checkpoint c;
  TrainState& s = c.state;
  std::string header, line, crc_text;
  size_t n = 0;
  bool ended = false;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line == kEndOfHeader) {
      ended = true;
      break;
    }
    require(line_no < 10000, where + ": header never ends (corrupt file)");
    std::istringstream f(line);
    std::string key, a, b, d;
    f >> key;
    if (key == "crc32") {
      f >> crc_text;  // the checksum line itself is not checksummed
      continue;
    }
    header += line + "\n";
    if (line_no == 1) {
      int version = 0;
      f >> version;
      require(key == kMagic, where + " is not a climvae checkpoint (first line '" + line.substr(0, 40) + "')");
      require(version >= 1 && version <= kCheckpointFormatVersion,
              where + " has format version " + std::to_string(version) + "; this climvae reads up to " +
                  std::to_string(kCheckpointFormatVersion));
      continue;
    }
    f >> a;
    bool ok = !f.fail();
    auto real = [&](const std::string& t) { return std::strtod(t.c_str(), nullptr); };
    try {
      if (key == "setting") {
        std::string value;
        std::getline(f >> std::ws, value);
        c.settings.emplace_back(a, value);
      } else if (key == "epoch") {
        s.epoch = std::stoi(a);
      } else if (key == "next_window") {
        s.next_window = std::stoll(a);
      } else if (key == "adam_steps") {
        s.adam_steps = std::stoll(a);
      } else if (key == "loss_sums") {
        ok = static_cast<bool>(f >> b >> d);
        s.loss_sums[0] = real(a), s.loss_sums[1] = real(b), s.loss_sums[2] = real(d);
      } else if (key == "best_epoch") {
        s.best_epoch = std::stoi(a);
      } else if (key == "best_loss") {
        s.best_loss = real(a);
      } else if (key == "epochs_without_improvement") {
        s.epochs_without_improvement = std::stoi(a);
      } else if (key == "seconds") {
        s.seconds = real(a);
      } else if (key == "parameters") {
        n = std::stoull(a);
      } else {
        ok = false;
      }
    } catch (const std::logic_error&) {  // std::stoi and friends on a garbled number
      ok = false;
    }
    require(ok, where + ": unreadable header line " + std::to_string(line_no) + ": '" + line.substr(0, 80) + "'");
  }
  require(ended, where + " is truncated: the header has no '" + kEndOfHeader + "' line");
  require(!crc_text.empty(), where + " has no checksum line");
  uint32_t crc = crc32(header.data(), header.size());
  for (auto* buffer : {&c.parameters, &c.adam_m, &c.adam_v, &c.best_parameters}) {
    buffer->resize(n);
    const auto bytes = static_cast<std::streamsize>(n * sizeof(float));
    in.read(reinterpret_cast<char*>(buffer->data()), bytes);
    require(in.gcount() == bytes, where + " is truncated: its parameter buffers are incomplete");
    crc = crc32(buffer->data(), static_cast<size_t>(bytes), crc);
  }
  char extra = 0;
  require(!in.read(&extra, 1), where + " has trailing bytes after the buffers (corrupt file)");
  char crc_now[16];
  std::snprintf(crc_now, sizeof crc_now, "%08x", crc);
  require(crc_text == crc_now, where + " is corrupt: checksum " + crc_now + " does not match the recorded " + crc_text);
  return c;
}

}  // namespace climvae
