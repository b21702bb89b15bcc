// Which strided-convolution kernels a benchmark's layers run: the instruction set, and for each
// layer whether its channel pair has specialised kernels or takes the generic (slower) path.
#pragma once
#include <cstddef>
#include <cstdio>
#include <vector>

#include "engine/strided_conv.hpp"
#include "model/vae.hpp"

namespace climvae::bench {

inline void print_layer_paths(const char* part, const std::vector<StridedLayer>& layers) {
  std::printf("    %s:", part);
  for (size_t i = 0; i < layers.size(); ++i) {
    const StridedLayer& l = layers[i];
    std::printf("%s %s %dx%d %s", i ? "," : "", l.name.c_str(), l.long_channels, l.short_channels,
                strided_kernel_specialised(l.long_channels, l.short_channels) ? "specialised" : "GENERIC");
  }
  std::printf("\n");
}

// Prints, e.g. "  strided kernels: avx2; per layer, channels long x short and the path:" and a
// line each for the encoder and the decoder.
inline void print_kernel_paths(const Vae& vae) {
  std::printf("  strided kernels: %s; per layer, channels long x short and the path:\n", strided_kernel_isa());
  print_layer_paths("encoder", vae.encoder());
  print_layer_paths("decoder", vae.decoder());
}

}  // namespace climvae::bench
