// One contiguous parameter buffer and one gradient buffer with named slices: Adam, checkpoints
// and the MPI allreduce each touch one buffer; layers see their own slices.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "engine/types.hpp"

namespace climvae {

struct ParamSlice {
  std::string name;        // e.g. "encoder.2.kernel"
  std::vector<int> shape;  // Keras order, e.g. (kernel, long channels, short channels)
  size_t offset = 0;
  size_t size = 0;
};

class ParamLayout {
 public:
  // Appends a slice; returns its offset.
  size_t add(const std::string& name, const std::vector<int>& shape);
  const ParamSlice& find(const std::string& name) const;  // throws Error if unknown
  const std::vector<ParamSlice>& slices() const { return slices_; }
  size_t total() const { return total_; }

 private:
  std::vector<ParamSlice> slices_;
  size_t total_ = 0;
};

// Parameters and gradients laid out by one ParamLayout.
struct ParamBuffers {
  ParamLayout layout;
  View1 values;
  View1 grads;

  void allocate();  // sizes values/grads to layout.total(), zero-filled
  Slice value(const ParamSlice& s) const { return slice_of(values, s); }
  Slice grad(const ParamSlice& s) const { return slice_of(grads, s); }

 private:
  static Slice slice_of(const View1& buffer, const ParamSlice& s) {
    return Slice(buffer.data() + s.offset, s.size);
  }
};

}  // namespace climvae
