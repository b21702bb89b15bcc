// A mutation fuzzer (AFL-style, in-process, fixed seed) over the two loaders that read files
// from outside: the model file (load_model) and the CSV series (read_csv_series). Each input is a
// corpus file mutated a few times (bit flips, interesting bytes and numbers, deleted, repeated or
// cut ranges); model inputs mostly get a recomputed, valid checksum so the mutations reach the
// parser and validate_model. A loader may only return or throw climvae::Error: any other
// exception fails the run, and a crash or sanitizer report kills it. The input being tried is
// always in ./fuzz_<kind>.input, so a crash leaves it behind.
//   fuzz_loaders model|csv CORPUS_DIR SECONDS [SEED]
//   fuzz_loaders make-model PATH CELLS   (writes a tiny valid model: how the corpus was made)
#include <Kokkos_Core.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/csv_series.hpp"
#include "model/model_file.hpp"

namespace {

using Bytes = std::string;

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<std::string> kInteresting = {"nan", "-nan", "inf", "-inf", "Infinity", "1e308", "1e309", "-1e308",
                                               "1e-320", "0", "-0", "-1", "99999", "-274", "-290", "2147483647",
                                               "-2147483648", "4294967296", "9223372036854775807", "1e20", "0x10",
                                               ",", "\n", "\r\n", " ", "T", ":", "-", "(K)", "(degC)", "(°F)", ""};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : random_(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  void mutate(Bytes& b, size_t first, size_t last) {  // within [first, last)
    if (last <= first) return;
    const size_t at = first + below(last - first);
    switch (below(8)) {
      case 0: b[at] = static_cast<char>(b[at] ^ (1 << below(8))); break;
      case 1: b[at] = "09-.eE\n ,:T\0\xff"[below(13)]; break;
      case 2: b.insert(at, kInteresting[below(kInteresting.size())]); break;
      case 3: {  // replace the number around `at` with an interesting one
        size_t s = at, e = at;
        while (s > first && std::string("0123456789.eE+-").find(b[s - 1]) != std::string::npos) --s;
        while (e < last && std::string("0123456789.eE+-").find(b[e]) != std::string::npos) ++e;
        b.replace(s, e - s, kInteresting[below(kInteresting.size())]);
        break;
      }
      case 4: b.erase(at, 1 + below(std::min<size_t>(64, last - at))); break;
      case 5: b.insert(at, b.substr(first + below(last - first), 1 + below(64))); break;
      case 6: b.resize(at); break;
      default: {  // a random float in the binary part set to an extreme
        const float extremes[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e38f, 1e-45f};
        const float v = extremes[below(7)];
        if (at + sizeof v <= b.size()) b.replace(at, sizeof v, reinterpret_cast<const char*>(&v), sizeof v);
      }
    }
  }

 private:
  std::mt19937_64 random_;
};

// The header ends at "end-header\n"; its crc32 line covers the other header lines and the rest.
void fix_model_checksum(Bytes& b) {
  const size_t end = b.find("\nend-header\n");
  if (end == std::string::npos) return;
  std::string header;
  std::istringstream lines(b.substr(0, end + 1));
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("crc32 ", 0) != 0) header += line + "\n";
  const std::string rest = b.substr(end + 12);
  uint32_t crc = climvae::crc32(header.data(), header.size());
  crc = climvae::crc32(rest.data(), rest.size(), crc);
  char text[32];
  std::snprintf(text, sizeof text, "crc32 %08x\n", crc);
  b = header + text + "end-header\n" + rest;
}

int make_model(const std::string& path, int cells) {
  climvae::ModelFile m;
  m.config.filters = 2;
  m.config.latent = 1;
  m.config.cells = cells;
  m.config.embedding = cells > 1 ? 1 : 0;
  m.reference_year = 2021;
  for (int c = 0; c < cells; ++c) m.cells.push_back({48.8 - 10 * c, 2.3 + 5 * c, c, 0.02, 285.0 + c, 6.5, 0.0});
  m.provenance = {{"store", "fuzz-corpus"}};
  const climvae::Vae shape(m.config);
  m.parameters.resize(shape.params().layout.total());
  for (size_t i = 0; i < m.parameters.size(); ++i) m.parameters[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
  climvae::save_model(m, path, true);
  std::cout << "wrote " << path << " (" << m.parameters.size() << " parameters)\n";
  return 0;
}

int fuzz(const std::string& kind, const std::string& corpus_dir, double seconds, uint64_t seed) {
  std::vector<Bytes> corpus;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir)) corpus.push_back(read_bytes(entry.path()));
  if (corpus.empty()) {
    std::cerr << "fuzz: no corpus files in " << corpus_dir << "\n";
    return 1;
  }
  const bool model = kind == "model";
  const std::string input = "fuzz_" + kind + ".input";
  Mutator mutator(seed);
  std::set<std::string> messages;
  long runs = 0, accepted = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    Bytes b = corpus[mutator.below(corpus.size())];
    const size_t header_end = model ? std::min(b.size(), b.find("end-header\n")) : b.size();
    const size_t rounds = 1 + mutator.below(6);
    for (size_t r = 0; r < rounds && !b.empty(); ++r) {
      const bool in_header = !model || mutator.below(5) != 0;
      mutator.mutate(b, in_header ? 0 : std::min(header_end, b.size()), in_header ? std::min(header_end, b.size()) : b.size());
    }
    if (model && mutator.below(4) != 0) fix_model_checksum(b);
    std::ofstream(input, std::ios::binary | std::ios::trunc) << b;
    ++runs;
    try {
      if (model) climvae::load_model(input);
      else climvae::read_csv_series(input, runs % 2 ? std::optional<climvae::TemperatureUnit>() : climvae::TemperatureUnit::kelvin);
      ++accepted;
    } catch (const climvae::Error& e) {
      const std::string m = e.what();
      messages.insert(m.substr(0, std::min<size_t>(m.size(), 48)));
    } catch (const std::exception& e) {
      std::cerr << "FINDING: " << kind << " loader threw a non-climvae exception: " << e.what() << "\n(input kept in "
                << input << ")\n";
      return 1;
    }
  }
  std::cout << "fuzz " << kind << ": " << runs << " inputs in " << seconds << " s, " << accepted << " accepted, "
            << messages.size() << " distinct refusals, no finding\n";
  std::remove(input.c_str());
  return runs > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int kokkos_argc = 1;  // the Vae that checks a model's layout needs Kokkos
  Kokkos::ScopeGuard kokkos(kokkos_argc, argv);
  const std::string kind = argc > 1 ? argv[1] : "";
  if (kind == "make-model" && argc == 4) return make_model(argv[2], std::atoi(argv[3]));
  if ((kind == "model" || kind == "csv") && (argc == 4 || argc == 5))
    return fuzz(kind, argv[2], std::atof(argv[3]), argc == 5 ? std::strtoull(argv[4], nullptr, 10) : 1);
  std::cerr << "usage: fuzz_loaders model|csv CORPUS_DIR SECONDS [SEED] | make-model PATH CELLS\n";
  return 2;
}
