// The one exception type climvae throws: a message that names the file, variable or option.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace climvae {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// One part of a message: text as it is, a number as std::to_string writes it.
template <class Part>
void append_part(std::string& message, const Part& part) {
  if constexpr (std::is_convertible_v<const Part&, std::string_view>) {
    message += std::string_view(part);
  } else {
    static_assert(std::is_arithmetic_v<Part> && !std::is_same_v<Part, bool> && !std::is_same_v<Part, char>,
                  "require(): message parts are text or numbers");
    message += std::to_string(part);
  }
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::string message;
  (append_part(message, parts), ...);
  throw Error(message);
}

}  // namespace detail

// Always-on check (also in release builds): throws climvae::Error with the message, the parts
// (text and numbers) concatenated. The message is built only when the check fails, so checks on
// hot paths cost one branch: pass numbers as parts, not as std::to_string(...) of them:
//   require(n <= kMax, "count must be at most ", kMax, ", got ", n);
template <class... Parts>
inline void require(bool condition, const Parts&... parts) {
  static_assert(sizeof...(Parts) > 0, "require(): say what is wrong");
  if (!condition) detail::fail(parts...);
}

}  // namespace climvae
