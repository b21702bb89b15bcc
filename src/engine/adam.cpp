#include "engine/adam.hpp"

#include <cmath>

#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"

namespace climvae {

Adam::Adam(size_t num_params, const AdamConfig& config)
    : config_(config), m_("climvae::adam::m", num_params), v_("climvae::adam::v", num_params) {
  require(config.learning_rate > 0, "Adam learning rate must be positive");
}

void Adam::step(const View1& params, const View1& grads) {
  require(params.extent(0) == m_.extent(0) && grads.extent(0) == m_.extent(0), "Adam: buffer size mismatch");
  ++step_;
  const Real b1 = static_cast<Real>(config_.beta1), b2 = static_cast<Real>(config_.beta2);
  const Real eps = static_cast<Real>(config_.epsilon);
  const Real lr_t = static_cast<Real>(config_.learning_rate * std::sqrt(1 - std::pow(config_.beta2, step_)) /
                                      (1 - std::pow(config_.beta1, step_)));
  Real* p = params.data();
  const Real* g = grads.data();
  Real* m = m_.data();
  Real* v = v_.data();
  Kokkos::parallel_for(
      "climvae::adam::step", RangePolicy(0, static_cast<int>(m_.extent(0))), KOKKOS_LAMBDA(const int i) {
        m[i] = b1 * m[i] + (Real(1) - b1) * g[i];
        v[i] = b2 * v[i] + (Real(1) - b2) * g[i] * g[i];
        p[i] -= lr_t * m[i] / (kx::sqrt(v[i]) + eps);
      });
}

}  // namespace climvae
