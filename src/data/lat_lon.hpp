// A point on the globe: where a series was measured, or the grid cell to keep.
#pragma once

namespace climvae {

struct LatLon {
  double latitude = 0;   // degrees north
  double longitude = 0;  // degrees east
};

}  // namespace climvae
