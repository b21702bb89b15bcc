#include "train/checkpoint.hpp"

#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/error.hpp"
#include "common/framed_file.hpp"

namespace climvae {

namespace {

const FramedFormat kCheckpointFormat{"climvae-checkpoint", "checkpoint", "checkpoint", kCheckpointFormatVersion};

// Hexadecimal floating point: exact on the round trip, and "inf" for a best loss not yet set.
std::string exact(double v) {
  std::ostringstream s;
  s << std::hexfloat << v;
  return s.str();
}

std::string header_of(const Checkpoint& c) {
  const TrainState& s = c.state;
  std::ostringstream h;
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

// One header line after the magic line; false: unreadable.
bool read_header_line(const std::string& line, Checkpoint& c, size_t& buffer_size) {
  std::istringstream f(line);
  std::string key, a, b, d;
  if (!(f >> key >> a)) return false;
  TrainState& s = c.state;
  auto real = [](const std::string& t) { return std::strtod(t.c_str(), nullptr); };
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
      if (!(f >> b >> d)) return false;
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
      buffer_size = std::stoull(a);
    } else {
      return false;
    }
  } catch (const std::logic_error&) {  // std::stoi and friends on a garbled number
    return false;
  }
  return true;
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
  std::vector<FloatBlock> blocks;
  for (const auto* buffer : {&c.parameters, &c.adam_m, &c.adam_v, &c.best_parameters}) {
    require(buffer->size() == n, "checkpoint buffers differ in size");
    blocks.push_back({buffer->data(), n});
  }
  write_framed_file(kCheckpointFormat, path, may_replace(path), header_of(c), blocks);
  allow_checkpoint_replacement(path);  // this run's own checkpoint: later saves replace it
}

Checkpoint load_checkpoint(const std::string& path) {
  FramedReader file(kCheckpointFormat, path);
  Checkpoint c;
  size_t n = 0;
  for (std::string line; file.next_line(line);) file.check_line(read_header_line(line, c, n), line);
  c.parameters = file.read_block(n, "parameter");
  c.adam_m = file.read_block(n, "Adam first moment");
  c.adam_v = file.read_block(n, "Adam second moment");
  c.best_parameters = file.read_block(n, "best parameter");
  file.finish();
  return c;
}

}  // namespace climvae
