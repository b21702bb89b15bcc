#include "train/checkpoint.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
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
  // Each value whole: std::stoi read 'best_epoch 1e9' as 1, the rest unnoticed.
  const auto whole = [](const std::string& t, size_t used) {
    if (used != t.size()) throw std::invalid_argument(t);
  };
  auto real = [&](const std::string& t) {
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    whole(t, static_cast<size_t>(end - t.c_str()));
    return v;
  };
  auto integer = [&](const std::string& t) {
    size_t used = 0;
    const long long v = std::stoll(t, &used);
    whole(t, used);
    return v;
  };
  auto small = [&](const std::string& t) {
    const long long v = integer(t);
    if (v < INT32_MIN || v > INT32_MAX) throw std::out_of_range(t);
    return static_cast<int>(v);
  };
  try {
    if (key == "setting") {
      std::string value;
      std::getline(f >> std::ws, value);
      c.settings.emplace_back(a, value);
    } else if (key == "epoch") {
      s.epoch = small(a);
    } else if (key == "next_window") {
      s.next_window = integer(a);
    } else if (key == "adam_steps") {
      s.adam_steps = integer(a);
    } else if (key == "loss_sums") {
      if (!(f >> b >> d)) return false;
      s.loss_sums[0] = real(a), s.loss_sums[1] = real(b), s.loss_sums[2] = real(d);
    } else if (key == "best_epoch") {
      s.best_epoch = small(a);
    } else if (key == "best_loss") {
      s.best_loss = real(a);
    } else if (key == "epochs_without_improvement") {
      s.epochs_without_improvement = small(a);
    } else if (key == "seconds") {
      s.seconds = real(a);
    } else if (key == "parameters") {
      const long long count = integer(a);
      if (count < 0) return false;
      buffer_size = static_cast<size_t>(count);
    } else {
      return false;
    }
  } catch (const std::logic_error&) {  // std::stoi and friends on a garbled number
    return false;
  }
  return key == "setting" || (f >> std::ws).eof();  // no values beyond the key's
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
  // A state no run leaves (edited, then re-sealed): a batch position before the epoch's start, a
  // NaN best loss (never beaten: the weights of the best epoch were silently kept), negative counts.
  const TrainState& s = c.state;
  const auto check = [&](bool ok, const std::string& field, double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", value);
    require(ok, file.where() + ": " + field + " " + text + " is not a value a run leaves (a damaged or edited file)");
  };
  check(s.epoch >= 1, "epoch", s.epoch);
  check(s.next_window >= 0, "next_window", double(s.next_window));
  check(s.adam_steps >= 0, "adam_steps", double(s.adam_steps));
  check(s.best_epoch >= 0 && s.best_epoch < s.epoch, "best_epoch", s.best_epoch);
  check(!std::isnan(s.best_loss), "best_loss", s.best_loss);
  check(s.epochs_without_improvement >= 0, "epochs_without_improvement", s.epochs_without_improvement);
  check(std::isfinite(s.seconds) && s.seconds >= 0, "seconds", s.seconds);
  for (double sum : s.loss_sums) check(std::isfinite(sum), "loss_sums", sum);
  return c;
}

}  // namespace climvae
