#include "engine/param_buffer.hpp"

#include "common/error.hpp"

namespace climvae {

size_t ParamLayout::add(const std::string& name, const std::vector<int>& shape) {
  size_t size = 1;
  for (int d : shape) size *= static_cast<size_t>(d);
  slices_.push_back({name, shape, total_, size});
  total_ += size;
  return slices_.back().offset;
}

const ParamSlice& ParamLayout::find(const std::string& name) const {
  for (const auto& s : slices_)
    if (s.name == name) return s;
  throw Error("no parameter named '" + name + "'");
}

void ParamBuffers::allocate() {
  values = View1("climvae::params", layout.total());
  grads = View1("climvae::grads", layout.total());
}

}  // namespace climvae
