#include "generate/trace_window.hpp"

#include "common/calendar.hpp"

namespace climvae {

DecodeWindow decode_window(const ModelCell& cell, int64_t start_hour, int64_t hours) {
  DecodeWindow w;
  w.local_start = start_hour + cell.utc_offset_hours;
  w.origin = floor_to_day(w.local_start);
  w.skip = w.local_start - w.origin;
  w.steps = (w.skip + hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep;
  return w;
}

}  // namespace climvae
