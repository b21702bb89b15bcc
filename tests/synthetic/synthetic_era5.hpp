// Synthetic ERA5-layout files for tests and bench/bench_era5: a regular grid whose 2 m
// temperature is a known function of (cell, hour), written as the old CDS does (netCDF-3 64-bit
// offset, short packed with scale/offset, -32767 fill, int hours since 1900, UNLIMITED time) or
// as the new CDS does (netCDF-4, float with NaN fill, int64 valid_time seconds since 1970,
// scalar `number`, latitude decreasing). Serial; time is written in chunks, so big files fit.
#pragma once
#include <cstdint>
#include <string>

namespace climvae::synthetic {

struct Era5Spec {
  int64_t first_hour = 0;    // hours since 1970
  int64_t hours = 24;
  int rows = 2, cols = 3;    // latitude north to south from `north`, longitude from `west`
  double north = 52.5, west = 13.0, step = 0.25;
  double bias_k = 0;         // added to every value (to make overlapping files disagree)
  int missing_cell = -1;     // this cell (row * cols + col) is all fill values
};

// The value a synthetic file holds at grid cell `cell` and `hour` (before packing), kelvin.
double t2m_k(const Era5Spec& spec, int cell, int64_t hour);

void write_classic(const std::string& path, const Era5Spec& spec);  // PnetCDF
void write_netcdf4(const std::string& path, const Era5Spec& spec);  // netCDF-C

// Scale of the packed files: the most a value can differ from t2m_k after unpacking.
constexpr double packing_step_k = 0.002;

}  // namespace climvae::synthetic
