#include <gtest/gtest.h>

#include "common/calendar.hpp"
#include "common/error.hpp"

using namespace climvae;

TEST(Calendar, RoundTripsAcrossLeapYearsAndBeforeEpoch) {
  for (int64_t h = -24 * 800; h < 24 * 366 * 60; h += 37) {
    EXPECT_EQ(hours_from_civil(civil_from_hours(h)), h);
  }
  EXPECT_EQ(parse_iso_hour("1970-01-01"), 0);
  EXPECT_EQ(parse_iso_hour("1900-01-01T00:00"), -613608);  // ERA5's old time origin
  EXPECT_EQ(format_iso_hour(parse_iso_hour("2024-02-29T23:00")), "2024-02-29T23:00");
  EXPECT_EQ(parse_iso_hour("2014-01-01 05:00:00"), parse_iso_hour("2014-01-01T05"));
}

TEST(Calendar, DayOfYearAndFractionalYear) {
  EXPECT_DOUBLE_EQ(day_of_year(parse_iso_hour("2021-01-01T06:00")), 0.25);
  EXPECT_DOUBLE_EQ(day_of_year(parse_iso_hour("2020-12-31T00:00")), 365.0);
  EXPECT_DOUBLE_EQ(fractional_year(parse_iso_hour("2021-07-02T12:00")), 2021.0 + 182.5 / 365.0);
}

TEST(Calendar, RejectsTextOutsideTheCalendar) {
  EXPECT_THROW(parse_iso_hour("2021-02-29"), Error);
  EXPECT_THROW(parse_iso_hour("2021-13-01"), Error);
  EXPECT_THROW(parse_iso_hour("yesterday"), Error);
  EXPECT_THROW(parse_iso_hour("2021-01-01T10:30"), Error);
  EXPECT_THROW(parse_iso_hour("2021-01-01T25:00"), Error);
  try {
    parse_iso_hour("2021-02-30");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2021-02-30"), std::string::npos);
  }
}
