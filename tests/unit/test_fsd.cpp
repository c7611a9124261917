// Flux Standard Duration (RFC 23).
#include <gtest/gtest.h>

#include <cmath>

#include "libflux/fsd.hpp"

using namespace flux;

TEST(Fsd, ParsesUnits) {
  EXPECT_DOUBLE_EQ(fsd_parse("0").value(), 0);
  EXPECT_DOUBLE_EQ(fsd_parse("1.5").value(), 1.5);
  EXPECT_DOUBLE_EQ(fsd_parse("0.001s").value(), 0.001);
  EXPECT_DOUBLE_EQ(fsd_parse("1ms").value(), 0.001);  // RFC 23 milliseconds
  EXPECT_DOUBLE_EQ(fsd_parse("2.5ms").value(), 0.0025);
  EXPECT_FALSE(fsd_parse("ms").ok());
  EXPECT_DOUBLE_EQ(fsd_parse("2m").value(), 120);
  EXPECT_DOUBLE_EQ(fsd_parse("1.5h").value(), 5400);
  EXPECT_DOUBLE_EQ(fsd_parse("1d").value(), 86400);
  EXPECT_DOUBLE_EQ(fsd_parse(".5s").value(), 0.5);
  EXPECT_TRUE(std::isinf(fsd_parse("inf").value()));
  EXPECT_TRUE(std::isinf(fsd_parse("infinity").value()));
}

TEST(Fsd, RejectsGarbage) {
  for (const char* bad :
       {"", "s", "-1", "-1s", "1x", "1ss", "1 s", "nan", "1e999", "abc", "+1", "1m2s", " 1"}) {
    auto r = fsd_parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().errnum, EINVAL);
      EXPECT_NE(r.error().message.find("invalid duration"), std::string::npos);
    }
  }
}

TEST(Fsd, Formats) {
  EXPECT_EQ(fsd_format(0), "0s");
  EXPECT_EQ(fsd_format(1.5), "1.5s");
  EXPECT_EQ(fsd_format(120), "2m");
  EXPECT_EQ(fsd_format(5400), "1.5h");
  EXPECT_EQ(fsd_format(86400 * 3), "3d");
  EXPECT_EQ(fsd_format(INFINITY), "inf");
}

TEST(Fsd, FormatParsesBack) {
  for (double v : {0.0, 0.25, 59.0, 90.0, 7200.0, 172800.0})
    EXPECT_NEAR(fsd_parse(fsd_format(v)).value(), v, v * 1e-3);
}

TEST(Fsd, FormatsDigitsAsFluxCore) {
  EXPECT_EQ(fsd_format_digits(0, 6), "0s");
  EXPECT_EQ(fsd_format_digits(0.0621, 6), "62.1ms");
  EXPECT_EQ(fsd_format_digits(1.23456789, 6), "1.23457s");
  EXPECT_EQ(fsd_format_digits(153.2688, 6), "2.55448m");
  EXPECT_EQ(fsd_format_digits(45818.3, 6), "12.7273h");
  EXPECT_EQ(fsd_format_digits(3725, 2), "1h");
  EXPECT_EQ(fsd_format_digits(5.678, 2), "5.7s");
  EXPECT_EQ(fsd_format_digits(86400 * 2.5, 2), "2.5d");
  EXPECT_EQ(fsd_format_digits(INFINITY, 2), "infinity");
}
