// The PyTorch state-dict export: names and torch layouts, a byte-exact round trip through
// torch::pickle_save / pickle_load, and clear errors for files that are not state dicts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "model/vae.hpp"
#include "reference/torch_vae.hpp"

namespace climvae {
namespace {

std::vector<float> random_parameters(const Vae& vae, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::vector<float> p(vae.params().layout.total());
  for (float& v : p) v = normal(rng);
  return p;
}

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "climvae_" + name + "_" + std::to_string(::getpid()) + ".pt";
}

TEST(ReferenceExport, ParameterNamesAndTorchLayouts) {
  Vae vae;
  const std::vector<float> p = random_parameters(vae, 1);
  reference::TorchVae model(vae.config());
  model.load_keras_flat(p, vae.params().layout);
  const auto params = model.named_parameters();
  ASSERT_EQ(params.size(), vae.params().layout.slices().size());
  EXPECT_EQ(params["encoder.0.weight"].sizes().vec(), (std::vector<int64_t>{40, 1, 5}));
  EXPECT_EQ(params["encoder.5.weight"].sizes().vec(), (std::vector<int64_t>{20, 40, 3}));
  EXPECT_EQ(params["decoder.0.weight"].sizes().vec(), (std::vector<int64_t>{10, 40, 3}));
  EXPECT_EQ(params["decoder.5.weight"].sizes().vec(), (std::vector<int64_t>{40, 1, 5}));
  EXPECT_EQ(params["decoder.5.bias"].sizes().vec(), (std::vector<int64_t>{1}));
  EXPECT_EQ(params["prior.weight"].sizes().vec(), (std::vector<int64_t>{20, 6}));
  EXPECT_EQ(params["noise_log_var"].sizes().vec(), (std::vector<int64_t>{1}));
  // Keras encoder.1.kernel[t, in, out] is torch encoder.1.weight[out, in, t].
  const ParamSlice& s = vae.params().layout.find("encoder.1.kernel");
  const int t = 2, in = 7, out = 31;
  EXPECT_EQ(params["encoder.1.weight"][out][in][t].item<float>(), p[s.offset + (t * 40 + in) * 40 + out]);
  // Keras prior.kernel[f, c] is torch prior.weight[c, f].
  const ParamSlice& prior = vae.params().layout.find("prior.kernel");
  EXPECT_EQ(params["prior.weight"][13][4].item<float>(), p[prior.offset + 4 * 20 + 13]);
  EXPECT_EQ(model.to_keras_flat(vae.params().layout), p);
}

TEST(ReferenceExport, CellEmbeddingIsATorchEmbeddingTable) {
  VaeConfig config;
  config.cells = 4;
  config.embedding = 3;
  Vae vae(config);
  const std::vector<float> p = random_parameters(vae, 3);
  reference::TorchVae model(config);
  model.load_keras_flat(p, vae.params().layout);
  const auto params = model.named_parameters();
  EXPECT_EQ(params["prior.weight"].sizes().vec(), (std::vector<int64_t>{20, 6 * (1 + 3) + 3}));  // f, f ⊗ e, e
  EXPECT_EQ(params["cell_embedding.weight"].sizes().vec(), (std::vector<int64_t>{4, 3}));
  // Keras cell_embedding.embeddings[cell, e] is torch cell_embedding.weight[cell, e].
  const ParamSlice& e = vae.params().layout.find("cell_embedding.embeddings");
  EXPECT_EQ(params["cell_embedding.weight"][2][1].item<float>(), p[e.offset + 2 * 3 + 1]);
  const std::string path = temp_path("cells");
  reference::save_state_dict(model, path);
  reference::TorchVae back(config);
  reference::load_state_dict(back, path);
  EXPECT_EQ(back.to_keras_flat(vae.params().layout), p);
  std::remove(path.c_str());
}

TEST(ReferenceExport, StateDictRoundTripGivesIdenticalOutputs) {
  Vae vae;
  const std::vector<float> p = random_parameters(vae, 2);
  reference::TorchVae model(vae.config());
  model.load_keras_flat(p, vae.params().layout);
  const std::string path = temp_path("state");
  reference::save_state_dict(model, path);

  // The file is a zip archive (torch.save's format), not a bare pickle.
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {0, 0};
  in.read(magic, 2);
  EXPECT_EQ(std::string(magic, 2), "PK");

  reference::TorchVae loaded(vae.config());
  reference::load_state_dict(loaded, path);
  EXPECT_EQ(loaded.to_keras_flat(vae.params().layout), p);

  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({2, 192}), season = torch::randn({2, 2, 6}), eps = torch::randn({2, 2, 10});
  torch::NoGradGuard no_grad;
  const auto a = model.forward(x, season, eps), b = loaded.forward(x, season, eps);
  EXPECT_TRUE(torch::equal(a.x_hat, b.x_hat));
  EXPECT_TRUE(torch::equal(a.z, b.z));
  EXPECT_EQ(a.total_loss.item<double>(), b.total_loss.item<double>());
  std::remove(path.c_str());
}

TEST(ReferenceExport, RejectsFilesThatAreNotStateDicts) {
  reference::TorchVae model;
  EXPECT_THROW(reference::load_state_dict(model, temp_path("missing")), Error);
  const std::string path = temp_path("garbage");
  std::ofstream(path) << "not a pickle";
  EXPECT_THROW(reference::load_state_dict(model, path), Error);
  std::remove(path.c_str());
  // A state dict with a wrong shape is refused by name.
  reference::TorchVae wide(VaeConfig{32, 10, 6});
  reference::save_state_dict(wide, path);
  try {
    reference::load_state_dict(model, path);
    ADD_FAILURE() << "a 32-filter state dict loaded into a 40-filter model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.0.weight"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(reference::save_state_dict(model, "/nonexistent-dir/state.pt"), Error);
}

}  // namespace
}  // namespace climvae
