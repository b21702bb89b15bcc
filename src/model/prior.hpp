// The prior p(z_0 .. z_{k-1} | season, cell) over a trace's latent steps, in one place: its
// parameter slices, forward and backward passes, and sampling (docs/model.md, "The prior").
//
// seasonal (the seed's): every step independent, z_t ~ N(m_t, s_t²) with (m_t, log s_t²) a
//   bias-free Dense layer of the step's Fourier features f_t (with a cell embedding e: of
//   [f, f ⊗ e, e]).
// temporal: the same marginals, but the standardised steps u_t = (z_t − m_t) / s_t follow an
//   AR(1) per feature, u_0 ~ N(0, 1), u_t | u_{t−1} ~ N(ρ_t u_{t−1}, 1 − ρ_t²), with
//   ρ_t = tanh(a_t) and a_t a Dense layer of [1, f_t, e]. So a warm 96-hour block makes the
//   next one likely warm too; ρ = 0 is exactly the seasonal prior. Training takes the KL of
//   each step against the prior conditioned on the previous step's posterior sample
//   (step 0 against the marginal).
#pragma once
#include <string>

#include "engine/param_buffer.hpp"
#include "engine/types.hpp"

namespace climvae {

struct VaeConfig;

enum class PriorKind { seasonal, temporal };
std::string prior_name(PriorKind kind);            // "seasonal" | "temporal"
PriorKind parse_prior_kind(const std::string& s);  // throws Error naming the choices

// Cell index (into the embedding) of each window of a batch: (B). An empty view means cell 0.
using CellIndices = Kokkos::View<int*, MemSpace>;

// The prior's parameters: slices of the network's one buffer.
struct PriorSlices {
  ParamSlice kernel;     // (prior_inputs, 2 * latent): mean | log-variance
  ParamSlice ar_kernel;  // (ar_inputs, latent): pre-activation of ρ; empty for the seasonal prior
  ParamSlice embedding;  // (cells, E); empty without an embedding
};

// Forward: seasonal (B, k, 2z) = m | log s², and for the temporal prior ar_pre (B, k, z) = a.
void prior_forward(const VaeConfig& config, const PriorSlices& slices, const View1& params, const View3& season,
                   const CellIndices& cells, const View3& seasonal, const View3& ar_pre);

// The prior of each step given the previous step's sample z (B, k, z): cond (B, k, 2z) = mean |
// log-variance, N(m_t + s_t ρ_t u_{t−1}, s_t² (1 − ρ_t²)) for t >= 1 and the marginal at t = 0.
void prior_conditional_forward(const View3& seasonal, const View3& ar_pre, const View3& z, const View3& cond);

// Backward of prior_conditional_forward: from d loss / d cond (B, k, 2z) to d loss / d seasonal
// (B, k, 2z), d loss / d ar_pre (B, k, z) and d loss / d z (B, k, z) (overwritten).
void prior_conditional_backward(const View3& seasonal, const View3& ar_pre, const View3& z, const View3& grad_cond,
                                const View3& grad_seasonal, const View3& grad_ar_pre, const View3& grad_z);

// Backward of prior_forward into the gradient buffer: the kernels' slices, and the embedding's
// (overwritten), to which the decoder's gradient with respect to its embedding input channels
// is added: decoder_input_grad (B, k, latent + E), or nullptr when the decoder is not conditioned.
// grad_ar_pre is ignored (may be empty) for the seasonal prior.
void prior_backward(const VaeConfig& config, const PriorSlices& slices, const View1& params, const View3& season,
                    const CellIndices& cells, const View3& grad_seasonal, const View3& grad_ar_pre,
                    const Real* decoder_input_grad, const View1& grads);

// Sampling: z (B, k, z) from standard normals eps (B, k, z) along the steps of each trace:
// u_0 = eps_0, u_t = ρ_t u_{t−1} + sqrt(1 − ρ_t²) eps_t (seasonal: u_t = eps_t), z_t = m_t + s_t u_t.
void prior_sample(const View3& seasonal, const View3& ar_pre, const View3& eps, const View3& z);

}  // namespace climvae
