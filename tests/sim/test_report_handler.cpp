// SystemC warnings and errors must fail a test: the test main installs the strict handler.
#include <gtest/gtest.h>

#include <systemc>

#include "report_handler.h"

namespace cimsim {
namespace {

TEST(ReportHandler, WarningThrowsInTests) {
  EXPECT_THROW(SC_REPORT_WARNING("cimsim/test", "a warning"), SystemCError);
}

TEST(ReportHandler, ErrorThrows) { EXPECT_THROW(SC_REPORT_ERROR("cimsim/test", "an error"), SystemCError); }

TEST(ReportHandler, InfoDoesNotThrow) { EXPECT_NO_THROW(SC_REPORT_INFO("cimsim/test", "information")); }

}  // namespace
}  // namespace cimsim
