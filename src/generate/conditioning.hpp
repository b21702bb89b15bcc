// Conditioning on the present: traces that keep the hours a host already has (observed or
// simulated, NaN where unknown) and fill the gaps / continue the series consistently.
//
// Pseudo-Gibbs imputation with the VAE (Rezende et al. 2014, sec. 6; Mattei & Frellsen 2018):
// start from a prior sample, then repeat {put the known hours in, encode, draw z from the
// posterior, decode}. Each round the posterior sees the known hours and the current fill, so the
// fill converges towards a draw of the unknown hours given the known ones. Known hours come back
// unchanged; everything else is the last decode plus the decoder's misses at the nearest known
// hours, decaying over a day, so gaps and continuations join the known hours without a jump.
#pragma once
#include <vector>

#include "generate/generator.hpp"

namespace climvae {

// known_k: kelvin (with the request's scenario warming included, as the host sees it) for the
// first known_k.size() <= r.hours hours of the request, NaN where unknown. Returns (time, member)
// kelvin like generate_traces. Like generation, it uses only `vae`'s own workspace: calls with
// different Vae instances may run on different threads at once.
std::vector<float> condition_traces(Vae& vae, const ModelFile& model, const TraceRequest& r,
                                    const std::vector<float>& known_k, int iterations);

// About the most memory condition_traces takes, in bytes (see generation_bytes): a generation of
// the decode window (its round 0), the traces, and one batch's inputs, draws and decodes.
size_t conditioning_bytes(const VaeConfig& config, int64_t hours, int members);

}  // namespace climvae
