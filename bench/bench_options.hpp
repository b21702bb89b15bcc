// The benchmarks' command lines: a list of options, each `--name VALUE` stored into its variable
// (or `--name` alone setting a flag), and `--help`.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace climvae::bench {

struct Option {
  const char* name;                                                   // "--seconds"
  std::variant<int*, int64_t*, double*, std::string*, bool*> target;  // bool*: a flag without value
};

// Sets the options found in argv. Returns false when it printed `usage` for `--help` or `-h`
// (the program then stops, MPI finalised). Throws climvae::Error naming an unknown argument or
// an option without its value.
inline bool parse_options(int argc, char** argv, const char* program, const std::vector<Option>& options,
                          const char* usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage);
      return false;
    }
    const Option* option = nullptr;
    for (const Option& o : options)
      if (arg == o.name) option = &o;
    require(option != nullptr, program, ": unknown argument '", arg, "' (see --help)");
    if (bool* const* flag = std::get_if<bool*>(&option->target)) {
      **flag = true;
      continue;
    }
    require(i + 1 < argc, program, ": ", arg, " needs a value (see --help)");
    const char* value = argv[++i];
    std::visit(
        [value](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, int>) *target = std::atoi(value);
          else if constexpr (std::is_same_v<T, int64_t>) *target = std::atoll(value);
          else if constexpr (std::is_same_v<T, double>) *target = std::atof(value);
          else if constexpr (std::is_same_v<T, std::string>) *target = value;
        },
        option->target);
  }
  return true;
}

}  // namespace climvae::bench
