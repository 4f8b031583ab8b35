// Test main for SystemC simulation tests: libsystemc supplies main() and calls sc_main. Any
// SystemC warning or error throws (report handler in strict mode) and so fails the test.
#include <gtest/gtest.h>

#include <systemc>

#include "report_handler.h"

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  cimsim::install_report_handler(true);
  return RUN_ALL_TESTS();
}
