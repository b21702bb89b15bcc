// climvae-export: writes a model file's weights as a PyTorch state dict (see
// src/reference/torch_vae.hpp for the names and layouts). A separate executable so that the
// main climvae binary never links LibTorch; `climvae export` runs this one.
#include <Kokkos_Core.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "model/model_file.hpp"
#include "reference/torch_vae.hpp"

namespace {

const char* const kUsage =
    "Usage: climvae export --model MODEL --output STATE.pt [--overwrite]\n"
    "Write a model's weights as a PyTorch state dict (torch.load(STATE.pt) gives {name: tensor}).\n\n"
    "  --model MODEL     model file written by 'climvae train'\n"
    "  --output FILE     state dict to write (written atomically)\n"
    "  --overwrite       replace an existing --output file\n"
    "  -h, --help        print this help and exit\n";

int run(int argc, char** argv) {
  std::string model_path, output_path;
  bool overwrite = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--overwrite") {
      overwrite = true;
    } else if ((a == "--model" || a == "--output") && i + 1 < argc) {
      std::string& value = a == "--model" ? model_path : output_path;
      climvae::require(value.empty(), "option '" + a + "' is given twice (see 'climvae export --help')");
      value = argv[++i];
    } else {
      throw climvae::Error("unknown or incomplete option '" + a + "' (see 'climvae export --help')");
    }
  }
  climvae::require(!model_path.empty() && !output_path.empty(),
                   "both --model and --output are required (see 'climvae export --help')");
  climvae::require(overwrite || ::access(output_path.c_str(), F_OK) != 0,
                   "'" + output_path + "' exists (give --overwrite to replace it)");
  climvae::require_output_location(output_path, "--output");
  std::error_code no_file;  // equivalent() is false when either does not exist
  climvae::require(!std::filesystem::equivalent(model_path, output_path, no_file),
                   "--output '" + output_path + "' is the --model file: give the state dict its own path");
  const climvae::ModelFile file = climvae::load_model(model_path);
  const climvae::Vae vae(file.config);  // its layout says where each Keras slice sits
  climvae::reference::TorchVae model(file.config);
  model.load_keras_flat(file.parameters, vae.params().layout);
  // Written under this run's temporary name, then committed like every other climvae output.
  climvae::remove_stale_temporaries(output_path);
  const std::string temporary = climvae::temporary_path(output_path, ::getpid());
  climvae::reference::save_state_dict(model, temporary);
  climvae::commit_file(temporary, output_path, overwrite);
  std::printf("wrote %s (%zu tensors, %zu parameters)\n", output_path.c_str(), model.named_parameters().size(),
              file.parameters.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int kokkos_argc = 1;  // the Vae's parameter buffer needs Kokkos; our options are not Kokkos'
  Kokkos::ScopeGuard kokkos(kokkos_argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "climvae export: error: %s\n", e.what());
    return 1;
  }
}
