// The one exception type climvae throws: a message that names the file, variable or option.
#pragma once
#include <stdexcept>
#include <string>

namespace climvae {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Always-on check (also in release builds): throws climvae::Error with the message.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace climvae
