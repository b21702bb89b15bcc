// Whether cells share their weather: the correlation of daily-mean anomalies between two cells,
// observed and generated (member m of one cell against member m of the other), for every pair
// of cells and binned by great-circle distance. Pure functions on CelsiusSeries, like
// statistics.hpp; the CSV and JSON columns are documented in docs/evaluation.md.
#pragma once
#include <ostream>
#include <vector>

#include "eval/statistics.hpp"

namespace climvae::eval {

// Great-circle distance in km (haversine, mean Earth radius 6371 km).
double great_circle_km(double lat_a, double lon_a, double lat_b, double lon_b);

// Pearson correlation of the daily-mean anomalies of two series on the same hours (same
// start_hour and length, else climvae::Error). Days are UTC days, so that both cells cover the
// same 24 hours whatever their local time; a day counts only when all 24 of its hours are valid
// in the series. Anomaly = the day's mean minus the series' smooth seasonal cycle (a mean and
// three annual harmonics fitted to its valid days, common/seasonal_cycle.hpp). The correlation uses the days valid in both; NaN with fewer than 3 such days or
// no spread.
double daily_anomaly_correlation(const CelsiusSeries& a, const CelsiusSeries& b);

// The same for two ensembles of equally many members: member m of a against member m of b,
// averaged over the members with a defined correlation (NaN when none has).
double daily_anomaly_correlation(const std::vector<CelsiusSeries>& a, const std::vector<CelsiusSeries>& b);

// For cells[c] (the members of cell c; every series on the same hours, every cell with as many
// members), the member-averaged correlation of every pair a < b in the order (0,1), (0,2), ...,
// (1,2), ...: the numbers daily_anomaly_correlation(cells[a], cells[b]) gives, with each series'
// anomalies computed once (many cells: pairs x members correlations of days, not of hours).
std::vector<double> pairwise_daily_anomaly_correlations(const std::vector<std::vector<CelsiusSeries>>& cells);

// One pair of cells (a < b, indices into the caller's cell list).
struct PairCorrelation {
  int cell_a = 0, cell_b = 0;
  double distance_km = 0;
  double observed = 0;
  double generated = 0;
  double classical = 0;  // NaN when the classical reference was not computed
};

// Pairs averaged within a distance bin [from_km, to_km).
struct DistanceBin {
  double from_km = 0, to_km = 0;
  int pairs = 0;
  double observed = 0, generated = 0, classical = 0;  // means over the bin's pairs with a value (NaN: none)
};

// `bins` bins of equal width from 0 to the largest distance (which the last bin includes).
std::vector<DistanceBin> bin_by_distance(const std::vector<PairCorrelation>& pairs, int bins);

// CSV `cell_a,cell_b,lat_a,lon_a,lat_b,lon_b,distance_km,observed,generated,difference,classical`
// (difference = generated - observed; NaN written as an empty field). lats and lons are per cell.
void write_pairs_csv(std::ostream& out, const std::vector<PairCorrelation>& pairs, const std::vector<double>& lats,
                     const std::vector<double>& lons);
// CSV `from_km,to_km,pairs,observed,generated,classical`.
void write_bins_csv(std::ostream& out, const std::vector<DistanceBin>& bins);
// JSON {"pairs": [{"cell_a", "cell_b", "distance_km", "observed", "generated", "difference",
// "classical"}, ...], "bins": [{"from_km", "to_km", "pairs", "observed", "generated", "classical"}, ...]};
// NaN becomes null.
void write_spatial_json(std::ostream& out, const std::vector<PairCorrelation>& pairs,
                        const std::vector<DistanceBin>& bins);
// Aligned table for people: every pair, or with more than `max_pairs` pairs the distance bins.
void print_spatial_table(std::ostream& out, const std::vector<PairCorrelation>& pairs,
                         const std::vector<DistanceBin>& bins, size_t max_pairs);

}  // namespace climvae::eval
